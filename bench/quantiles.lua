-- Shared by pages.lua and ingest.lua (loaded with dofile): with WRK_QUANTILES set, write the
-- 1 000 per-mille latencies (µs) of this run to that file, so that bench/load.py can put
-- the latency distributions of several short runs together.
function done(summary, latency, requests)
  local out = os.getenv("WRK_QUANTILES")
  if out == nil then
    return
  end
  local file = assert(io.open(out, "w"))
  for i = 1, 1000 do
    file:write(latency:percentile(i / 10), "\n")
  end
  file:close()
end
