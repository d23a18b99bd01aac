-- bench.lua - the wrk script of every benchmark case. The case is chosen by
-- environment variables set by bench/lib.sh (wrk's Lua has os.getenv):
--   BENCH_MODE    static | get | create | ticket | patch | mix
--   BENCH_TOKEN   bearer token (static, get, create, ticket, patch)
--   BENCH_FILE    get: ids, one a line; ticket: customer ids; patch: "id version"
--                 lines; create/mix: "token id id ..." lines, one per tenant
--   BENCH_PREFIX  path of the collection, e.g. /api/v1/customers
-- Every case ends with one machine-readable line, "BENCH k=v ...", that
-- bench/lib.sh parses: requests per second, latency percentiles (us), and
-- the error counts that make the smoke run fail.

local mode = os.getenv("BENCH_MODE") or "static"
local token = os.getenv("BENCH_TOKEN")
local file = os.getenv("BENCH_FILE")
local prefix = os.getenv("BENCH_PREFIX") or "/api/v1/customers"

local next_tid = 0

function setup(thread)
   thread:set("thread_id", next_tid)
   next_tid = next_tid + 1
end

local function lines(path)
   local out = {}
   local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
   for l in f:lines() do
      if #l > 0 then out[#out + 1] = l end
   end
   f:close()
   return out
end

local function words(l)
   local w = {}
   for x in l:gmatch("%S+") do w[#w + 1] = x end
   return w
end

local ids, tenants, versions, order = {}, {}, {}, {}
local pos, n, me = 0, 0, 0
local first_error = nil
local base_headers = {}

function init(args)
   me = thread_id or 0
   local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   math.randomseed(os.time() * 1000 + me * 7919)
   if token then base_headers["Authorization"] = "Bearer " .. token end
   if mode == "get" or mode == "ticket" then
      ids = lines(file)
   elseif mode == "patch" then
      -- each wrk thread patches its own slice, so two requests in flight
      -- never carry the same record's version
      local all = lines(file)
      for i, l in ipairs(all) do
         if (i - 1) % nthreads == me then
            local w = words(l)
            order[#order + 1] = w[1]
            versions[w[1]] = tonumber(w[2])
         end
      end
   elseif mode == "create" or mode == "mix" then
      for _, l in ipairs(lines(file)) do
         local w = words(l)
         local t = {token = w[1], ids = {}}
         for i = 2, #w do t.ids[#t.ids + 1] = w[i] end
         tenants[#tenants + 1] = t
      end
   end
end

local function hdrs(tok, json, extra)
   local h = {}
   if tok then h["Authorization"] = "Bearer " .. tok end
   if json then h["Content-Type"] = "application/json" end
   if extra then for k, v in pairs(extra) do h[k] = v end end
   return h
end

local function customer_body()
   n = n + 1
   local u = string.format("%d-%d-%d", me, n, math.random(1, 1000000000))
   return '{"name":"Bench Person ' .. u .. '","email":"bench' .. u .. '@example.test",' ..
      '"company_name":"Bench Co ' .. u .. '","industry":"logistics"}'
end

function request()
   if mode == "get" then
      return wrk.format("GET", prefix .. "/" .. ids[math.random(#ids)], base_headers)
   elseif mode == "create" then
      -- round robin over the tenants of the file (one tenant: always it)
      pos = pos % #tenants + 1
      return wrk.format("POST", prefix, hdrs(tenants[pos].token, true), customer_body())
   elseif mode == "ticket" then
      n = n + 1
      local body = '{"customer_id":"' .. ids[math.random(#ids)] .. '","title":"Bench ticket ' .. n ..
         '","description":"The printer in room ' .. n .. ' shows an error after the update."}'
      return wrk.format("POST", "/api/v1/tickets", hdrs(token, true), body)
   elseif mode == "patch" then
      pos = pos % #order + 1
      local id = order[pos]
      n = n + 1
      local body = '{"industry":"industry ' .. (n % 97) .. '"}'
      return wrk.format("PATCH", prefix .. "/" .. id,
                        hdrs(token, true, {["If-Match"] = '"' .. versions[id] .. '"'}), body)
   elseif mode == "mix" then
      local t = tenants[math.random(#tenants)]
      if math.random(2) == 1 then
         return wrk.format("GET", prefix .. "/" .. t.ids[math.random(#t.ids)], hdrs(t.token))
      end
      return wrk.format("POST", prefix, hdrs(t.token, true), customer_body())
   end
   return wrk.format("GET", nil, base_headers)
end

-- Only patch needs to see responses: it learns each record's new version.
if mode == "patch" then
   response = function(status, headers, body)
      if status == 200 then
         local id = body:match('^{"id":"([^"]+)"')
         local v = body:match('"version":(%d+)')
         if id and v then versions[id] = tonumber(v) end
      elseif not first_error then
         first_error = status .. " " .. body:sub(1, 200)
         io.stderr:write("patch: " .. first_error .. "\n")
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH rps=%.1f requests=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests / secs, summary.requests, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
