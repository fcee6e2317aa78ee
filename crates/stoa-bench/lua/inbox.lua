-- Inbox ingest: replays a corpus of pre-signed activities, each exactly once.
-- BENCH_CORPUS: one request per line, tab-separated:
--   path, date, digest, signature, body.
-- Thread t sends lines t, t + n, t + 2n… and stops when they run out.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local mine = {}
local index = 0
local ok, refused = 0, 0

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_CORPUS")) do
    if i % nthreads == tonumber(tid) then mine[#mine + 1] = line end
    i = i + 1
  end
end

function request()
  index = index + 1
  local line = mine[index]
  if line == nil then
    wrk.thread:stop()
    return wrk.format("GET", "/health")
  end
  local path, date, digest, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  return wrk.format("POST", path, {
    ["Date"] = date,
    ["Digest"] = digest,
    ["Signature"] = signature,
    ["Content-Type"] = "application/activity+json",
  }, body)
end

function response(status, headers, body)
  if index > #mine then return end
  if status == 202 then ok = ok + 1 else refused = refused + 1 end
  wrk.thread:set("ok", ok)
  wrk.thread:set("refused", refused)
end
