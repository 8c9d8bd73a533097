-- wrk script for the load benchmark's sample ingest (bench/load.py): POST batches of
-- samples to /api/vmquota/samples as a collector does, with its token.
--   wrk -s bench/ingest.lua http://127.0.0.1:PORT -- VM_NAMES_FILE TOKEN BATCH EPOCH
-- Every request carries one timestamp for its whole batch; the timestamps are EPOCH plus a
-- number of microseconds unique to the thread and request, so no sample is a duplicate of a
-- stored one (the generated samples fall on whole minutes).
local thread_count = 0
local templates = {}
local headers = {}
local counter = 0
local base = ""

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local names = {}
  for line in assert(io.open(args[1], "r")):lines() do
    if line ~= "" then
      names[#names + 1] = line
    end
  end
  local batch = tonumber(args[3])
  base = os.date("!%Y-%m-%dT%H:%M:%S", tonumber(args[4]))
  headers["Authorization"] = "Bearer " .. args[2]
  headers["Content-Type"] = "application/json"
  -- one body template per window of `batch` VMs; "@TS@" becomes the request's timestamp
  for start = 1, #names, batch do
    local rows = {}
    for i = start, math.min(start + batch - 1, #names) do
      rows[#rows + 1] = string.format(
        '{"vm":"%s","ts":"@TS@","cpu_percent":%d.5,"net_kbps":%d}', names[i], i % 90, 200 + i % 700)
    end
    templates[#templates + 1] = '{"samples":[' .. table.concat(rows, ",") .. "]}"
  end
end

function request()
  counter = counter + 1
  local ts = string.format("%s.%06d+00:00", base, thread_id * 100000 + counter % 100000)
  local body = templates[counter % #templates + 1]:gsub("@TS@", ts)
  return wrk.format("POST", "/api/vmquota/samples", headers, body)
end

-- done(): the per-mille latencies for bench/load.py, in quantiles.lua beside this file
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "quantiles.lua")
