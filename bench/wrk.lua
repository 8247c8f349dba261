-- Sends pre-signed deliveries from REQUESTS_FILE, each exactly once: thread k of n takes lines
-- k, k+n, k+2n... When a thread runs out it sends nothing more useful (it repeats its last line,
-- which answers 200 "duplicate" without a new row), so size the file for the run.
local threads = {}
local counter = 0

function setup(thread)
    thread:set("index", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    total = counter
    requests = {}
    local n = 0
    for line in io.lines(os.getenv("REQUESTS_FILE")) do
        if n % tonumber(os.getenv("WRK_THREADS")) == index then
            local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
            table.insert(requests, wrk.format("POST", nil, {
                ["Content-Type"] = "application/json", ["svix-id"] = id, ["svix-timestamp"] = ts,
                ["svix-signature"] = sig,
            }, body))
        end
        n = n + 1
    end
    position = 0
end

function request()
    position = position + 1
    if position > #requests then position = #requests end
    return requests[position]
end
