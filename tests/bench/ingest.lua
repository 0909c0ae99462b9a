-- wrk script for tests/bench/ingest.sh: POSTs QoE beacon batches to /v1/beacons.
--
--   wrk -t2 -c200 -d15s -s tests/bench/ingest.lua http://HOST:PORT -- KEY TAG [EVENTS] [ACTIVE] [PACE_MS]
--
-- Every request is a new, valid batch (protocol/src/beacon.rs): its view id and sequence
-- number are unique in the run, so nothing is a duplicate. Each wrk thread keeps ACTIVE
-- views open at once (default 1000) and sends their batches in turn, the way many players
-- report concurrently: batch k of a thread goes to view slot k % ACTIVE, and a view's
-- batches 0..4 (5 per view, EVENTS events each, default 20) are ACTIVE requests apart. A
-- view plays: viewstart, playrequest, a startup level switch, firstframe, then heartbeats
-- (bitrate, buffer, bandwidth estimate, frames) with level switches, some rebuffers and
-- seeks, and the last batch ends with ended and viewend. Dimensions (video, player,
-- browser, OS, page, a custom dimension) vary by view.
--
-- PACE_MS (default 0: as fast as answers come) makes each connection wait that long before
-- each request, for a fixed offered load: CONNS × 1000 / PACE_MS batches/s at most.
--
-- KEY is the ingest key (`demo`, or an unknown key for the run that stores nothing); TAG
-- makes view ids unique across runs. done() prints one line for the script to parse:
--   RESULT requests=N duration_us=N non2xx=N socket_errors=N p50_us=N p99_us=N max_us=N

local threads = {}
local counter = 0
thread_id = 0 -- set per thread by setup()
local key, tag = "demo", "run"
local events_per_batch, active = 20, 1000
local batches_per_view = 5
local pace_ms = 0
local t0_ms = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  key = args[1] or key
  tag = args[2] or tag
  events_per_batch = tonumber(args[3] or "") or events_per_batch
  active = tonumber(args[4] or "") or active
  pace_ms = tonumber(args[5] or "") or pace_ms
  t0_ms = os.time() * 1000
end

-- A small deterministic hash (xorshift32), so a view's batches agree on its dimensions.
local function mix(n, salt)
  local x = bit.tobit(n * 374761393 + salt * 668265263 + 1)
  for _ = 1, 3 do
    x = bit.bxor(x, bit.lshift(x, 13))
    x = bit.bxor(x, bit.rshift(x, 17))
    x = bit.bxor(x, bit.lshift(x, 5))
  end
  return bit.band(x, 0x7fffffff)
end

local function pick(list, h)
  return list[(h % #list) + 1]
end

local PLAYERS = {
  { "wasm-hls-player", "0.1.0" }, { "wasm-hls-player", "0.1.0" }, { "hls.js", "1.6.13" },
  { "hls.js", "1.6.13" }, { "native", "26.1" }, { "shaka-player", "4.16.2" },
}
local CLIENTS = {
  { "Chrome 142", "Windows" }, { "Chrome 142", "Windows" }, { "Chrome 142", "Android" },
  { "Chrome 142", "macOS" }, { "Safari 26", "iOS" }, { "Safari 26", "macOS" },
  { "Firefox 145", "Windows" }, { "Edge 142", "Windows" }, { "Samsung Internet 28", "Android" },
  { "Chromium 156", "Linux" }, { "Firefox 145", "Linux" }, { "Chrome 142", "ChromeOS" },
}
local LADDER = { 300000, 700000, 1200000, 2500000, 4500000 }
local PLANS = { "free", "free", "premium", "trial" }

local function ev(t, kind, pt, rest)
  local s = '{"t":' .. string.format("%.0f", t) .. ',"type":"' .. kind .. '"'
  if pt then
    s = s .. ',"pt":' .. string.format("%.3f", pt)
  end
  if rest then
    s = s .. "," .. rest
  end
  return s .. "}"
end

function delay()
  return pace_ms
end

function request()
  local k = counter
  counter = counter + 1
  local slot = k % active
  local round = math.floor(k / active)
  local seq = round % batches_per_view
  local view_n = math.floor(round / batches_per_view) * active + slot
  local view = string.format("%s-t%d-v%d", tag, thread_id, view_n)
  local h = mix(view_n, thread_id + 1)
  local player = pick(PLAYERS, h)
  local client = pick(CLIENTS, math.floor(h / 7))
  local video = math.floor(h / 97) % 200
  -- The view's timeline: it starts when its first batch is due; batch s covers 20 s.
  local start = t0_ms + view_n * 3
  local rung = 3 + math.floor(h / 11) % 3 -- level after startup: 2..4 (1-based 3..5)
  local stalls = (math.floor(h / 13) % 5 == 0)
  local seeks = (math.floor(h / 17) % 6 == 0)
  local events = {}
  local base = start + seq * 20000
  local level = rung
  for i = 0, events_per_batch - 1 do
    local t = base + i * 1000
    local pt = seq * 20 + i - 2.5
    local e
    if seq == 0 and i == 0 then
      e = ev(t, "viewstart")
    elseif seq == 0 and i == 1 then
      e = ev(t, "playrequest", 0)
    elseif seq == 0 and i == 2 then
      e = ev(t + 40, "levelswitch", 0, '"to":1,"bitrate":' .. LADDER[2] .. ',"height":360,"reason":"startup"')
    elseif seq == 0 and i == 3 then
      e = ev(t - 150 - (h % 700), "firstframe", 0)
    elseif seq == 0 and i == 5 then
      e = ev(t, "levelswitch", pt, '"from":1,"to":' .. (rung - 1) .. ',"bitrate":' .. LADDER[rung]
        .. ',"height":' .. (rung * 240) .. ',"reason":"throughput-up"')
    elseif stalls and seq == 2 and i == 8 then
      e = ev(t, "rebufferstart", pt)
    elseif stalls and seq == 2 and i == 9 then
      e = ev(t + 200 + (h % 1800), "rebufferend", pt)
    elseif seeks and seq == 3 and i == 4 then
      e = ev(t, "seek", pt, string.format('"from":%.3f,"to":%.3f,"latency_ms":%d', pt - 30, pt, 150 + h % 400))
    elseif seq == batches_per_view - 1 and i == events_per_batch - 2 then
      e = ev(t, "ended", pt)
    elseif seq == batches_per_view - 1 and i == events_per_batch - 1 then
      e = ev(t, "viewend", pt)
    else
      local frames = math.floor(pt * 30)
      if frames < 0 then frames = 0 end
      e = ev(t, "heartbeat", pt > 0 and pt or 0, string.format(
        '"bitrate":%d,"buffer_s":%.1f,"bandwidth_bps":%d,"dropped_frames":%d,"total_frames":%d',
        LADDER[level], 8 + (i % 10) * 1.5, LADDER[level] * 3 + (h % 500000),
        math.floor(frames / 400), frames))
    end
    events[#events + 1] = e
  end
  local body = string.format(
    '{"v":1,"key":"%s","batch":"b-%s-%d","seq":%d,"dropped":0,"view":{"id":"%s","session":"s-%s-%d",'
      .. '"player":"%s","player_version":"%s","video_id":"video-%03d","video_title":"Video %d",'
      .. '"browser":"%s","os":"%s","page":"https://www.example.com/watch/%d",'
      .. '"custom":{"plan":"%s"},"sample_rate":1},"events":[%s]}',
    key, view, seq, seq, view, tag, math.floor(view_n / 3), player[1], player[2], video, video,
    client[1], client[2], video, pick(PLANS, math.floor(h / 5)), table.concat(events, ","))
  return wrk.format("POST", "/v1/beacons", {
    ["Content-Type"] = "application/json",
    ["Origin"] = "https://www.example.com",
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
