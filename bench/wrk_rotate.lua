-- wrk script for the sign benchmark: each request POSTs the next pre-built body (one a line in the
-- bodies file), so every certificate is for a different key. A 2xx whose body holds no certificate
-- counts as an error, as does every non-2xx, counted by status code; the first error of each thread
-- is kept to show why.
--
--   wrk -s wrk_rotate.lua URL -- PATH CONTENT_TYPE BODIES_FILE [AUTHORIZATION]

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  headers = { ["Content-Type"] = args[2] }
  if args[4] ~= nil and args[4] ~= "" then headers["Authorization"] = args[4] end
  bodies = {}
  for line in io.lines(args[3]) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
  -- Threads start at different places in the list, so they do not send the same CSRs in step.
  index = ((thread_number or 1) - 1) * math.floor(#bodies / 7 + 1) % #bodies
  issued = 0
  non2xx = 0
  statuses = {}
  empty2xx = 0
  first_error = ""
end

function request()
  index = index % #bodies + 1
  return wrk.format("POST", path, headers, bodies[index])
end

function response(status, response_headers, body)
  if status >= 200 and status < 300 then
    if body ~= nil and string.find(body, "BEGIN CERTIFICATE", 1, true) then
      issued = issued + 1
    else
      empty2xx = empty2xx + 1
      if first_error == "" then first_error = status .. " without a certificate" end
    end
  else
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local total_issued, total_non2xx, total_empty, errors, statuses = 0, 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    total_issued = total_issued + thread:get("issued")
    total_non2xx = total_non2xx + thread:get("non2xx")
    total_empty = total_empty + thread:get("empty2xx")
    for status, count in pairs(thread:get("statuses")) do statuses[status] = (statuses[status] or 0) + count end
    local first = thread:get("first_error")
    if first ~= nil and first ~= "" then errors[#errors + 1] = first end
  end
  local e = summary.errors
  io.write(string.format("WRK duration_us %d\n", summary.duration))
  io.write(string.format("WRK requests %d\n", summary.requests))
  io.write(string.format("WRK issued %d\n", total_issued))
  io.write(string.format("WRK non2xx %d\n", total_non2xx))
  io.write(string.format("WRK empty2xx %d\n", total_empty))
  for status, count in pairs(statuses) do io.write(string.format("WRK status_%d %d\n", status, count)) end
  io.write(string.format("WRK socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("WRK connect_errors %d\n", e.connect))
  io.write(string.format("WRK read_errors %d\n", e.read))
  io.write(string.format("WRK write_errors %d\n", e.write))
  io.write(string.format("WRK timeouts %d\n", e.timeout))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("WRK p%s_us %d\n", tostring(p), latency:percentile(p)))
  end
  io.write(string.format("WRK max_us %d\n", latency.max))
  io.write(string.format("WRK mean_us %d\n", latency.mean))
  for _, text in ipairs(errors) do
    io.write("WRK first_error " .. string.gsub(text, "[\r\n]+", " ") .. "\n")
  end
end
