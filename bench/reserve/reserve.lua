-- reserve.lua - wrk: POST /api/v1/inventory/ID/reserve {"quantity": 1, ...}
-- on a random id of BENCH_FILE (one a line), authenticated by BENCH_TOKEN.
-- Ends with "BENCH rps=... non2xx=..." for bench/reserve/run.py.
local token = os.getenv("BENCH_TOKEN")
local ids = {}
local non2xx = 0

function init(args)
   math.randomseed(os.time() + (thread_id or 0))
   local f = assert(io.open(os.getenv("BENCH_FILE"), "r"))
   for l in f:lines() do if #l > 0 then ids[#ids + 1] = l end end
   f:close()
end

local body = '{"quantity":1,"reference_type":"order","reference_id":"bench"}'

function request()
   local id = ids[math.random(#ids)]
   return wrk.format("POST", "/api/v1/inventory/" .. id .. "/reserve",
                     {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function response(status)
   if status ~= 200 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
   io.write(string.format("BENCH rps=%.1f p50=%d p99=%d errors=%d\n",
                          summary.requests / (summary.duration / 1e6), latency:percentile(50),
                          latency:percentile(99), summary.errors.status + summary.errors.connect +
                          summary.errors.read + summary.errors.write + summary.errors.timeout))
end
