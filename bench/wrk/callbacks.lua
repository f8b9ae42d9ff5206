-- wrk script for the callback benchmark (bench/README.md).
--
-- Env (read by every Lua state, main and threads):
--   BENCH_FILE  pre-generated requests, one per line: "<path?query>\t<body>" (each a distinct signed callback),
--               optionally "\t<name=value|name=value>" after the body: headers (DingTalk signs in headers)
--   BENCH_RATE  requests/s for the whole run; 0 or unset = as fast as the connections go (closed loop)
--
-- Each thread takes the lines i where i % threads == thread id, formats them once in init (wrk.format per
-- request), and sends each at most once. When a thread runs out it starts again from its first line and counts
-- `reused` (the real app answers those with 409, so such a run has non-200s and is not a valid figure).
-- Every response's status is counted; done() prints one JSON line starting with "BENCH_RESULT ".
--
-- Constant rate (wrk2 is not in Debian): delay() spaces the requests on an absolute schedule per thread,
-- slot k at t0 + k/rate, using clock_gettime through LuaJIT's ffi. A connection asks for its next slot when it
-- is free; if every connection is busy the schedule slips, which is measured (late_max_ms, late_over_1ms) so a
-- run that did not hold the rate is visible. wrk times a request from its write, so "latency" is service time;
-- with enough idle connections (lateness ~0) that is the open-loop latency too.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local file = os.getenv("BENCH_FILE")
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0

-- main state: hand each thread an id, keep the threads for done()
local threads = {}
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

-- thread state
local reqs = {}
local nreqs = 0
local idx = 0
sent = 0
reused = 0
ok200 = 0
non200 = 0
statuses = ""
local by_status = {}
late_max_ms = 0
late_over_1ms = 0

function init(args)
  local total = tonumber(args[1] or "1") or 1
  local me = tid or 0
  wrk_threads = total
  local i = 0
  for line in io.lines(file) do
    if i % total == me then
      local tab = string.find(line, "\t", 1, true)
      local path = string.sub(line, 1, tab - 1)
      local body = string.sub(line, tab + 1)
      local headers = { ["Content-Type"] = "application/json" }
      -- an optional third field carries headers, "name=value|name=value" (DingTalk signs in headers)
      local tab2 = string.find(body, "\t", 1, true)
      if tab2 then
        for pair in string.gmatch(string.sub(body, tab2 + 1), "[^|]+") do
          local eq = string.find(pair, "=", 1, true)
          headers[string.sub(pair, 1, eq - 1)] = string.sub(pair, eq + 1)
        end
        body = string.sub(body, 1, tab2 - 1)
      end
      nreqs = nreqs + 1
      reqs[nreqs] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
  if nreqs == 0 then error("no requests for thread " .. me .. " in " .. tostring(file)) end
end

function request()
  idx = idx + 1
  if idx > nreqs then
    idx = 1
    reused = reused + 1
  elseif reused > 0 then
    reused = reused + 1
  end
  sent = sent + 1
  return reqs[idx]
end

function response(status, headers, body)
  if status == 200 then
    ok200 = ok200 + 1
  else
    non200 = non200 + 1
    by_status[status] = (by_status[status] or 0) + 1
    local parts = {}
    for s, n in pairs(by_status) do table.insert(parts, s .. ":" .. n) end
    statuses = table.concat(parts, ",")
  end
end

if rate > 0 then
  local t0 = nil
  local slot = 0
  local interval = nil
  function delay()
    local t = now_ms()
    if t0 == nil then
      t0 = t
      -- each thread carries rate/threads (wrk_threads is set in init from the argument after --)
      interval = 1000 * (tonumber(wrk_threads or 1) or 1) / rate
    end
    local due = t0 + slot * interval
    slot = slot + 1
    local wait = due - t
    if wait <= 0 then
      local late = -wait
      if late > late_max_ms then late_max_ms = late end
      if late > 1 then late_over_1ms = late_over_1ms + 1 end
      return 0
    end
    return math.floor(wait + 0.5)
  end
end

function done(summary, latency, requests)
  local t = { sent = 0, reused = 0, ok200 = 0, non200 = 0, late_over_1ms = 0 }
  local late_max = 0
  local st = {}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (tonumber(th:get(k)) or 0) end
    local lm = tonumber(th:get("late_max_ms")) or 0
    if lm > late_max then late_max = lm end
    local s = th:get("statuses")
    if s and s ~= "" then table.insert(st, s) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"bytes":%d,"sent":%d,"ok200":%d,"non200":%d,"statuses":"%s","reused":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"lat_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},"late_max_ms":%.3f,"late_over_1ms":%d}\n',
    summary.duration, summary.requests, summary.bytes, t.sent, t.ok200, t.non200, table.concat(st, ","), t.reused,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    late_max, t.late_over_1ms))
end
