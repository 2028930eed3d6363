-- wrk script for bench/run.py.
--   GET:  wrk -s bench/wrk.lua URL
--   POST: wrk -s bench/wrk.lua URL -- post NONCE PATH [PATH...]
--   POST, refused: wrk -s bench/wrk.lua URL -- refuse NONCE
--   POST as JSON (the API): wrk -s bench/wrk.lua URL -- json NONCE PATH [PATH...]
-- POST mode sends rating forms round-robin over PATHs, with a new User-Agent on every
-- request so each one is a new visitor (one rating per visitor, provider and day would
-- otherwise refuse them; run.py lifts the per-network limits). Refuse mode sends the same
-- visitor's rating to URL every time: all but the first are refused with a 429.
-- CSRF cookie and header come from -H options.
-- done() prints one line "BENCH_JSON {...}" that run.py parses.

local mode, nonce, paths, counter = "get", "", {}, 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end

function init(args)
  mode = args[1] or "get"
  if mode == "post" or mode == "refuse" or mode == "json" then
    nonce = args[2]
    for i = 3, #args do
      paths[#paths + 1] = args[i]
    end
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  if mode == "json" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if mode == "refuse" then
    wrk.headers["User-Agent"] = string.format("byok-bench-refused/%s", nonce)
    return wrk.format("POST", nil, nil, "rating=4&comment=")
  end
  if mode ~= "post" and mode ~= "json" then
    return wrk.request()
  end
  counter = counter + 1
  wrk.headers["User-Agent"] = string.format("byok-bench/%s/%d/%d", nonce, tid, counter)
  local body = string.format("rating=%d&comment=", counter % 5 + 1)
  if mode == "json" then
    body = string.format('{"rating": %d}', counter % 5 + 1)
  end
  return wrk.format("POST", paths[counter % #paths + 1], nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
  ))
end
