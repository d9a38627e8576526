-- wrk script: POST one GraphQL request again and again, as the bench admin.
-- Usage: wrk -t1 -c1 -d60s --latency -s bench/graphql.lua http://127.0.0.1:PORT/graphql -- BODY.json
-- BODY.json holds the request ({"query": ..., "variables": ...}); $BENCH_AUTHORIZATION the
-- Authorization header. At the end it prints the line the kit's wrk_paths.lua prints
-- (WRKJSON {...}), so one parser reads both, plus err_graphql: the 200 answers that carried
-- GraphQL errors instead of data.
local posted
local threads = {}
failed = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  if file == nil then error("pass the body file after --") end
  local handle = assert(io.open(file, "r"))
  local body = handle:read("*a")
  handle:close()
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION")
  posted = wrk.format("POST", nil, headers, body)
end

function request()
  return posted
end

function response(status, headers, body)
  if status == 200 and body:find('"errors":', 1, true) then failed = failed + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  local graphql = 0
  for _, thread in ipairs(threads) do graphql = graphql + thread:get("failed") end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d,"err_graphql":%d,"rps":%.2f,"lat_p50_us":%d,"lat_p99_us":%d,' ..
    '"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    graphql, summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    latency.max))
end
