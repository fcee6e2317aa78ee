-- Client API load: BENCH_METHOD BENCH_PATH with a bearer token rotated from
-- BENCH_TOKENS (one per line). "{id}" in the path takes the next id of
-- BENCH_IDS; "{n}" in BENCH_BODY a request counter, so posts differ.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local tokens, ids
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
local counter = 0
local ok, refused = 0, 0

function init(args)
  tokens = read_lines(os.getenv("BENCH_TOKENS"))
  local ids_file = os.getenv("BENCH_IDS")
  if ids_file and ids_file ~= "" then ids = read_lines(ids_file) end
  -- Threads start far apart so that they do not repeat each other's pairs.
  counter = tonumber(tid) * 1000003
end

function request()
  counter = counter + 1
  local headers = {["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]}
  local p = path
  if ids then p = string.gsub(p, "{id}", ids[(counter % #ids) + 1]) end
  local b = nil
  if body and body ~= "" then
    b = string.gsub(body, "{n}", tostring(counter))
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, p, headers, b)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else refused = refused + 1 end
  wrk.thread:set("ok", ok)
  wrk.thread:set("refused", refused)
end
