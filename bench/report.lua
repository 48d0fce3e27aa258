-- wrk reporter: one JSON line with throughput, latency percentiles (microseconds),
-- the number of requests slower than SLOW_US, and error counts.
local SLOW_US = 3000000

done = function(summary, latency, requests)
  local slow = 0
  for i = 1, #latency do
    local value, count = latency(i)
    if value > SLOW_US then
      slow = slow + count
    end
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "slow": %d, "errors": {"connect": %d, '
      .. '"read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, slow, e.connect, e.read, e.write, e.status, e.timeout))
end
