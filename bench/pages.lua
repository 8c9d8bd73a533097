-- wrk script for the load benchmark (bench/load.py): cycle through the requests listed in
-- a file, one per line "path<TAB>cookie", so 16 connections act as many people with their own
-- sessions rather than one session row that every request would update in turn.
--   wrk -s bench/pages.lua http://127.0.0.1:PORT -- /tmp/requests.tsv
local requests = {}
local next_index = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local path, cookie = line:match("^([^\t]+)\t?(.*)$")
    if path then
      local headers = { ["Accept-Language"] = "zh-TW" }
      if cookie ~= "" then
        headers["Cookie"] = cookie
      end
      requests[#requests + 1] = wrk.format("GET", path, headers)
    end
  end
  file:close()
  -- each thread starts at its own place in the list
  math.randomseed(tonumber(tostring({}):match("0x(%x+)") or "1", 16) % 2147483647)
  next_index = math.random(#requests) - 1
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

-- done(): the per-mille latencies for bench/load.py, in quantiles.lua beside this file
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "quantiles.lua")
