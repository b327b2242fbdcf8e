// quickstart.cpp: the MCP authorization flow from C++ through include/mcpauth.hpp, against the
// loopback demo server.
//
//   quickstart SERVER_URL
//
// `make -C examples/cpp` builds it; ffi/tests/c_examples.rs and `make test-ffi-install` (CMake)
// build it with -Wall -Wextra -Wpedantic -Werror and run it against mcp-auth-demo-server.
//
// The client keeps its tokens in a C++ object (mcpauth::Storage), prints each step of the flow
// (the trace callback), sends initialize, tools/list and tools/call (the first one runs
// discovery, registration, PKCE authorization and the token exchange), reads a streamed tool
// result event by event (mcpauth::Stream), then shows how a failure arrives: as an
// mcpauth::Error carrying the status.
#include <iostream>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <utility>

#include "mcpauth.hpp"

namespace {

// Token storage in this program's memory: what a host with its own keychain would implement.
class MemoryStorage : public mcpauth::Storage {
public:
    std::optional<std::string> get(std::string_view kind, std::string_view key) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++gets;
        auto it = values_.find({std::string(kind), std::string(key)});
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    void set(std::string_view kind, std::string_view key, std::string_view value) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++sets;
        values_[{std::string(kind), std::string(key)}] = std::string(value);
    }
    void remove(std::string_view kind, std::string_view key) override {
        std::lock_guard<std::mutex> lock(mutex_);
        values_.erase({std::string(kind), std::string(key)});
    }
    bool has(std::string_view kind) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto &entry : values_)
            if (entry.first.first == kind) return true;
        return false;
    }
    int gets = 0, sets = 0;

private:
    std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, std::string> values_;
};

// Prints one line per step of the flow, e.g. "[ok  ] token_exchange POST http://…/token 200".
void on_trace(std::string_view event_json) {
    std::string event(event_json);
    std::string outcome = mcpauth::json_get(event, "/outcome").value_or("?");
    std::string step = mcpauth::json_get(event, "/step").value_or("?");
    const char *label = outcome == "ok" ? "ok  " : outcome == "fallback" ? "next" : "FAIL";
    std::cout << "[" << label << "] " << step << "\n";
}

// POST one JSON-RPC request; returns the JSON-RPC message of the answer.
std::string call(const mcpauth::Client &client, const std::string &method,
                 const std::string &params, int id) {
    std::cout << "-> " << method << "\n";
    mcpauth::Response response = client.post_json(R"({"jsonrpc":"2.0","id":)" +
                                                  std::to_string(id) + R"(,"method":")" + method +
                                                  R"(","params":)" + params + "}");
    std::cout << "<- " << response.status()
              << " (authorizations during this request: " << response.authorizations() << ")\n";
    if (response.status() != 200)
        throw std::runtime_error(method + ": HTTP " + std::to_string(response.status()));
    return response.json_message().value_or("");
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " SERVER_URL\n";
        return 2;
    }
    const std::string server_url = argv[1];
    std::cout << "libmcpauth " << mcpauth::version() << " (C++ wrapper, header "
              << MCPAUTH_VERSION << ")\n";
    try {
        auto storage = std::make_shared<MemoryStorage>();
        mcpauth::Callbacks callbacks;
        callbacks.trace = on_trace;
        callbacks.storage = storage;
        mcpauth::Client client(R"({"server_url":")" + server_url +
                                   R"(","client_name":"mcp-auth C++ quickstart","timeout_ms":60000,)"
                                   R"("redirect":{"type":"headless"}})",
                               std::move(callbacks));

        // Moving a client keeps it working (the callbacks' userdata stays put).
        mcpauth::Client moved = std::move(client);

        call(moved, "initialize",
             R"({"protocolVersion":"2025-11-25","capabilities":{},)"
             R"("clientInfo":{"name":"mcp-auth-cpp-quickstart","version":")" MCPAUTH_VERSION
             R"("}})",
             1);
        call(moved, "tools/list", "{}", 2);
        std::string answer =
            call(moved, "tools/call", R"({"name":"echo","arguments":{"text":"hello from C++"}})", 3);
        std::string text = mcpauth::json_get(answer, "/result/content/0/text").value_or("");
        std::cout << "tools/call result: " << text << "\n";
        if (text != "hello from C++") throw std::runtime_error("unexpected tools/call result");

        // A streamed answer (mcpauth::Stream): the ticker tool's progress notifications arrive
        // as server-sent events, one by one, then its result.
        std::cout << "-> tools/call ticker (streamed)\n";
        mcpauth::Stream stream = moved.send_streamed(
            "POST",
            R"({"jsonrpc":"2.0","id":4,"method":"tools/call",)"
            R"("params":{"name":"ticker","arguments":{"count":3,"interval_ms":10}}})",
            R"({"Content-Type":"application/json","Accept":"application/json, text/event-stream"})");
        std::cout << "<- " << stream.status() << " "
                  << (stream.is_event_stream() ? "event stream" : "not an event stream") << "\n";
        int progress = 0;
        std::string result;
        while (std::optional<std::string> event = stream.next_event()) {
            std::string data = mcpauth::json_get(*event, "/data").value_or("");
            if (mcpauth::json_get(data, "/method").value_or("") == "notifications/progress")
                ++progress;
            else
                result = mcpauth::json_get(data, "/result/content/0/text").value_or("");
        }
        std::cout << "ticker: " << progress << " progress events, then: " << result << "\n";
        if (progress != 3 || result.empty()) throw std::runtime_error("unexpected ticker stream");
        std::cout << "granted scope: " << moved.granted_scope().value_or("(none)") << "\n";
        std::cout << "storage: tokens " << (storage->has(MCPAUTH_STORAGE_KIND_TOKENS) ? "stored" : "missing")
                  << ", client_info "
                  << (storage->has(MCPAUTH_STORAGE_KIND_CLIENT_INFO) ? "stored" : "missing") << "\n";
        if (!storage->has(MCPAUTH_STORAGE_KIND_TOKENS)) throw std::runtime_error("no token stored");

        moved.logout();
        std::cout << "after logout: token " << (moved.current_token() ? "held" : "none") << "\n";
    } catch (const mcpauth::Error &e) {
        std::cout << "quickstart failed: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cout << "quickstart failed: " << e.what() << "\n";
        return 1;
    }

    // Failures are exceptions carrying the status and the library's message.
    try {
        mcpauth::Client bad(R"({"server_url":"not a url"})");
        std::cout << "a bad server URL was accepted\n";
        return 1;
    } catch (const mcpauth::Error &e) {
        std::cout << "bad options: " << e.status_name() << " (" << static_cast<int>(e.status())
                  << ")\n";
        if (e.status() != MCPAUTH_STATUS_INVALID_ARGUMENT) return 1;
    }
    try {
        mcpauth::Client strict(R"({"server_url":"https://mcp.example.com/mcp","no_such_option":1})");
        std::cout << "an unknown option was accepted\n";
        return 1;
    } catch (const mcpauth::Error &e) {
        std::cout << "unknown option: " << e.status_name() << "\n";
    }
    std::cout << "quickstart: ok\n";
    return 0;
}
