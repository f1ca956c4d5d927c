-- wrk script for GET /api/v1/user with a bearer token (BENCHMARKS.md):
--
--   TOKEN=ACCESS_TOKEN wrk -t1 -c32 -d10s -s e2e/loadtest/user.lua http://127.0.0.1:8080/api/v1/user
--
-- The same script drives the ceiling server, so both runs send the same
-- request. wrk counts answers other than 2xx/3xx as "Non-2xx or 3xx
-- responses"; a load run passes only with none.
local token = os.getenv("TOKEN")
if token == nil or token == "" then
  error("set TOKEN to an access token (cd e2e && go run ./loadtest/loadgen -scenario token ...)")
end
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"
