/*
 * mcpauth.hpp: a small header-only C++17 wrapper over the C ABI of mcp-auth (mcpauth.h).
 *
 *   #include <mcpauth.hpp>
 *
 *   mcpauth::Client client(R"({"server_url":"https://mcp.example.com/mcp"})");
 *   mcpauth::Response r = client.post_json(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
 *   std::cout << r.status() << " " << r.body() << "\n";
 *
 * What it adds over the C header, and nothing more:
 * - ownership: mcpauth::Client, mcpauth::Response and mcpauth::Stream own their handle
 *   (move-only; the handle is freed by the destructor), and every `char **` out-string is
 *   copied into a std::string and released with mcpauth_string_free (which zeroizes it)
 *   before the call returns;
 * - errors: a failed call throws mcpauth::Error, which carries the status and everything the
 *   thread's last error held (message, OAuth error, HTTP status, failed check, challenge);
 * - callbacks: the trace observer, the redirect handler and the token storage are
 *   std::function / a virtual interface; exceptions thrown by them are caught at the C
 *   boundary (the C ABI forbids unwinding through it) and turned into a failed callback.
 *
 * Secrets (access tokens from access_token()/current_token(), stored values) end up in
 * std::string objects, which do not zeroize their memory: keep them short-lived.
 *
 * Thread safety is the C ABI's: a Client may be used from several threads at once (its const
 * member functions); constructing, moving and destroying it need exclusive access.
 *
 * Link with -lmcpauth (pkg-config mcpauth, or the CMake target mcpauth::mcpauth).
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */
#ifndef MCPAUTH_HPP
#define MCPAUTH_HPP

#if __cplusplus < 201703L && (!defined(_MSVC_LANG) || _MSVC_LANG < 201703L)
#error "mcpauth.hpp needs C++17"
#endif

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mcpauth.h"

namespace mcpauth {

/// The library's version string, e.g. "0.1.0" (MCPAUTH_VERSION of the header it was built with).
inline std::string_view version() noexcept { return mcpauth_version(); }

/// The stable symbolic name of a status, e.g. "TOKEN" for MCPAUTH_STATUS_TOKEN.
inline std::string_view status_name(mcpauth_status status) noexcept {
    return mcpauth_status_name(static_cast<int32_t>(status));
}

/// A failed libmcpauth call: the status and the thread's last error, captured when it failed.
class Error : public std::runtime_error {
public:
    Error(mcpauth_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}

    /// The status, e.g. MCPAUTH_STATUS_TOKEN (see mcpauth.h for the ranges).
    mcpauth_status status() const noexcept { return status_; }
    /// The status' symbolic name, e.g. "TOKEN".
    std::string_view status_name() const noexcept { return mcpauth::status_name(status_); }
    /// The OAuth `error` code (RFC 6749 §5.2), e.g. "invalid_grant"; empty when none.
    const std::string &oauth_error() const noexcept { return oauth_error_; }
    /// The OAuth `error_description` (server-supplied: untrusted); empty when none.
    const std::string &oauth_error_description() const noexcept {
        return oauth_error_description_;
    }
    /// The HTTP status the failure carried (e.g. the token endpoint's 400), 0 when none.
    std::uint16_t http_status() const noexcept { return http_status_; }
    /// Which security check failed ("response_iss", "resource", ...); empty when none.
    const std::string &check() const noexcept { return check_; }
    /// The resource server's final challenge as JSON (for MCPAUTH_STATUS_UNAUTHORIZED); empty
    /// when none.
    const std::string &challenge_json() const noexcept { return challenge_json_; }

    /// Capture the calling thread's last error (call it right after the failed call).
    static Error last(mcpauth_status status, const char *what) {
        const char *message = mcpauth_last_error_message();
        std::string text = what ? std::string(what) + ": " : std::string();
        text += std::string(mcpauth::status_name(status)) + " (" +
                std::to_string(static_cast<int32_t>(status)) + ")";
        if (message) text += std::string(": ") + message;
        Error e(status, text);
        e.oauth_error_ = or_empty(mcpauth_last_error_oauth_error());
        e.oauth_error_description_ = or_empty(mcpauth_last_error_oauth_error_description());
        e.http_status_ = mcpauth_last_error_http_status();
        e.check_ = or_empty(mcpauth_last_error_check());
        e.challenge_json_ = or_empty(mcpauth_last_error_challenge_json());
        return e;
    }

private:
    static std::string or_empty(const char *s) { return s ? std::string(s) : std::string(); }

    mcpauth_status status_;
    std::string oauth_error_;
    std::string oauth_error_description_;
    std::uint16_t http_status_ = 0;
    std::string check_;
    std::string challenge_json_;
};

namespace detail {

/// Releases a library-returned string with mcpauth_string_free (which zeroizes it).
struct StringFree {
    void operator()(char *s) const noexcept { mcpauth_string_free(s); }
};
using OwnedString = std::unique_ptr<char, StringFree>;

inline void check(mcpauth_status status, const char *what) {
    if (status != MCPAUTH_STATUS_OK) throw Error::last(status, what);
}

/// Runs `call(&out)`, throws on failure, and returns the out-string (nullopt for NULL).
template <typename Call>
std::optional<std::string> out_string(const char *what, Call &&call) {
    char *raw = nullptr;
    mcpauth_status status = call(&raw);
    OwnedString owned(raw);  // freed on every path, exceptions included
    check(status, what);
    if (!owned) return std::nullopt;
    return std::string(owned.get());
}

/// As out_string, for calls whose out-string is never NULL on success.
template <typename Call>
std::string out_required(const char *what, Call &&call) {
    std::optional<std::string> s = out_string(what, std::forward<Call>(call));
    return s ? std::move(*s) : std::string();
}

}  // namespace detail

/// One member of a JSON document by RFC 6901 pointer ("" is the whole document): a string value
/// unquoted, any other value as compact JSON, nullopt when absent or null.
inline std::optional<std::string> json_get(const std::string &json, const std::string &pointer) {
    return detail::out_string("mcpauth_json_get", [&](char **out) {
        return mcpauth_json_get(json.c_str(), pointer.c_str(), out);
    });
}

/// The host's token storage: values are JSON documents keyed by (kind, key), where kind is
/// MCPAUTH_STORAGE_KIND_TOKENS or MCPAUTH_STORAGE_KIND_CLIENT_INFO (answer nullopt for kinds you
/// do not know). Called from any thread using the client, concurrently: synchronize. Throw to
/// fail the operation (MCPAUTH_STATUS_STORAGE); the exception's what() must hold no secret.
class Storage {
public:
    virtual ~Storage() = default;
    virtual std::optional<std::string> get(std::string_view kind, std::string_view key) = 0;
    virtual void set(std::string_view kind, std::string_view key, std::string_view value) = 0;
    virtual void remove(std::string_view kind, std::string_view key) = 0;
};

/// Optional callbacks of a Client (see mcpauth_client_config_set_*). Every one may be empty.
struct Callbacks {
    /// Receives every step of the flow as a JSON object (never carries secrets).
    std::function<void(std::string_view event_json)> trace;
    /// Sends the user to the authorization URL and returns the redirect URL (or its query).
    /// Throw to fail the authorization (e.g. the user cancelled). Needs the
    /// {"type":"callback","redirect_uri":"..."} redirect option.
    std::function<std::string(std::string_view authorization_url)> redirect;
    /// The token storage, instead of the "storage" option.
    std::shared_ptr<Storage> storage;
};

/// The final response of Client::send / Client::post_json. Move-only; owns the handle.
class Response {
public:
    explicit Response(mcpauth_response *handle) noexcept : handle_(handle) {}
    Response(Response &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Response &operator=(Response &&other) noexcept {
        if (this != &other) {
            mcpauth_response_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Response(const Response &) = delete;
    Response &operator=(const Response &) = delete;
    ~Response() { mcpauth_response_free(handle_); }

    /// The HTTP status, e.g. 200.
    std::uint16_t status() const {
        std::uint16_t s = 0;
        detail::check(mcpauth_response_status(handle_, &s), "mcpauth_response_status");
        return s;
    }
    /// The body, borrowed from this response (valid while it lives).
    std::string_view body() const {
        const std::uint8_t *data = nullptr;
        std::size_t len = 0;
        detail::check(mcpauth_response_body(handle_, &data, &len), "mcpauth_response_body");
        return std::string_view(reinterpret_cast<const char *>(data), len);
    }
    /// A header's value (several joined with ", "), nullopt when absent.
    std::optional<std::string> header(const std::string &name) const {
        return detail::out_string("mcpauth_response_header", [&](char **out) {
            return mcpauth_response_header(handle_, name.c_str(), out);
        });
    }
    /// Every header as a JSON array of [name, value] pairs.
    std::string headers_json() const {
        return detail::out_required("mcpauth_response_headers_json", [&](char **out) {
            return mcpauth_response_headers_json(handle_, out);
        });
    }
    /// The last 401/403 challenge seen while sending, as JSON; nullopt when none.
    std::optional<std::string> challenge_json() const {
        return detail::out_string("mcpauth_response_challenge_json", [&](char **out) {
            return mcpauth_response_challenge_json(handle_, out);
        });
    }
    /// The JSON-RPC message of the body (JSON or the first SSE data event); nullopt when none.
    std::optional<std::string> json_message() const {
        return detail::out_string("mcpauth_response_json_message", [&](char **out) {
            return mcpauth_response_json_message(handle_, out);
        });
    }
    /// How many tokens were acquired (authorizations or refreshes) while sending.
    std::uint32_t authorizations() const {
        std::uint32_t n = 0;
        detail::check(mcpauth_response_authorizations(handle_, &n),
                      "mcpauth_response_authorizations");
        return n;
    }
    /// The C handle (still owned by this object).
    const mcpauth_response *get() const noexcept { return handle_; }

private:
    mcpauth_response *handle_;
};

/// The response of Client::send_streamed (mcpauth_stream): the head has arrived, the body is
/// read as it comes, in bytes (read) or as server-sent events (next_event), not both. MCP limits
/// apply (no body cap unless configured, an idle timeout). Move-only; owns the handle; reading
/// needs exclusive access.
class Stream {
public:
    explicit Stream(mcpauth_stream *handle) noexcept : handle_(handle) {}
    Stream(Stream &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Stream &operator=(Stream &&other) noexcept {
        if (this != &other) {
            mcpauth_stream_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;
    /// Closes the connection if the body was not read to its end.
    ~Stream() { mcpauth_stream_free(handle_); }

    /// The HTTP status, e.g. 200.
    std::uint16_t status() const {
        std::uint16_t s = 0;
        detail::check(mcpauth_stream_status(handle_, &s), "mcpauth_stream_status");
        return s;
    }
    /// A header's value (several joined with ", "), nullopt when absent.
    std::optional<std::string> header(const std::string &name) const {
        return detail::out_string("mcpauth_stream_header", [&](char **out) {
            return mcpauth_stream_header(handle_, name.c_str(), out);
        });
    }
    /// Every header as a JSON array of [name, value] pairs.
    std::string headers_json() const {
        return detail::out_required("mcpauth_stream_headers_json", [&](char **out) {
            return mcpauth_stream_headers_json(handle_, out);
        });
    }
    /// The last 401/403 challenge seen while sending, as JSON; nullopt when none.
    std::optional<std::string> challenge_json() const {
        return detail::out_string("mcpauth_stream_challenge_json", [&](char **out) {
            return mcpauth_stream_challenge_json(handle_, out);
        });
    }
    /// How many tokens were acquired (authorizations or refreshes) while sending.
    std::uint32_t authorizations() const {
        std::uint32_t n = 0;
        detail::check(mcpauth_stream_authorizations(handle_, &n), "mcpauth_stream_authorizations");
        return n;
    }
    /// Whether the body is a text/event-stream (read it with next_event).
    bool is_event_stream() const {
        bool events = false;
        detail::check(mcpauth_stream_is_event_stream(handle_, &events),
                      "mcpauth_stream_is_event_stream");
        return events;
    }
    /// Read the next bytes of the body into `buf`, blocking until at least one arrived; 0 only
    /// at the end of the body. Throws Error (a timeout, a cap, a broken connection).
    std::size_t read(void *buf, std::size_t cap) {
        std::size_t n = 0;
        detail::check(mcpauth_stream_read(handle_, static_cast<std::uint8_t *>(buf), cap, &n),
                      "mcpauth_stream_read");
        return n;
    }
    /// The rest of the body. Throws Error.
    std::string read_all() {
        std::string body;
        char chunk[16384];
        for (std::size_t n; (n = read(chunk, sizeof chunk)) != 0;) body.append(chunk, n);
        return body;
    }
    /// The next server-sent event as JSON (`event`, `data`, `id`, `retry`), blocking until it
    /// is complete; nullopt at the end of the stream. Throws Error.
    std::optional<std::string> next_event() {
        return detail::out_string("mcpauth_stream_next_event", [&](char **out) {
            return mcpauth_stream_next_event(handle_, out);
        });
    }
    /// The C handle (still owned by this object).
    mcpauth_stream *get() noexcept { return handle_; }

private:
    mcpauth_stream *handle_;
};

/// An MCP authorization client for one server (mcpauth_client). Move-only; owns the handle.
class Client {
public:
    /// Build a client from JSON options (see mcpauth_client_config_new; only "server_url" is
    /// required) and optional callbacks. Throws Error.
    explicit Client(const std::string &options_json, Callbacks callbacks = {})
        : callbacks_(std::make_unique<Callbacks>(std::move(callbacks))) {
        mcpauth_client_config *raw = nullptr;
        detail::check(mcpauth_client_config_new(options_json.c_str(), &raw),
                      "mcpauth_client_config_new");
        std::unique_ptr<mcpauth_client_config, ConfigFree> config(raw);
        // The callbacks live on the heap so that moving the Client keeps `userdata` valid.
        void *userdata = callbacks_.get();
        if (callbacks_->trace)
            detail::check(mcpauth_client_config_set_trace(config.get(), &on_trace, userdata),
                          "mcpauth_client_config_set_trace");
        if (callbacks_->redirect)
            detail::check(mcpauth_client_config_set_redirect_handler(config.get(),
                                                                     &on_redirect, userdata),
                          "mcpauth_client_config_set_redirect_handler");
        if (callbacks_->storage)
            detail::check(mcpauth_client_config_set_storage(config.get(), &on_get, &on_set,
                                                            &on_remove, userdata),
                          "mcpauth_client_config_set_storage");
        detail::check(mcpauth_client_new(config.get(), &handle_), "mcpauth_client_new");
    }
    Client(Client &&other) noexcept
        : callbacks_(std::move(other.callbacks_)), handle_(std::exchange(other.handle_, nullptr)) {}
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            mcpauth_client_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            callbacks_ = std::move(other.callbacks_);
        }
        return *this;
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() { mcpauth_client_free(handle_); }

    /// Send a request with the bearer token, running the authorization flow when the server
    /// asks for it. `url` empty: the configured server URL. `headers_json`: a JSON object of
    /// extra headers, or empty. A non-2xx answer is still a Response; throws Error otherwise.
    Response send(const std::string &method, std::string_view body = {},
                  const std::string &headers_json = {}, const std::string &url = {}) const {
        mcpauth_response *out = nullptr;
        detail::check(
            mcpauth_client_send(handle_, method.c_str(), url.empty() ? nullptr : url.c_str(),
                                headers_json.empty() ? nullptr : headers_json.c_str(),
                                reinterpret_cast<const std::uint8_t *>(body.data()),
                                body.size(), &out),
            "mcpauth_client_send");
        return Response(out);
    }
    /// As send, but returns once the head of the final response has arrived; the body is read
    /// from the Stream as it comes (large tool results, SSE). Throws Error.
    Stream send_streamed(const std::string &method, std::string_view body = {},
                         const std::string &headers_json = {}, const std::string &url = {}) const {
        mcpauth_stream *out = nullptr;
        detail::check(mcpauth_client_send_streamed(
                          handle_, method.c_str(), url.empty() ? nullptr : url.c_str(),
                          headers_json.empty() ? nullptr : headers_json.c_str(),
                          reinterpret_cast<const std::uint8_t *>(body.data()), body.size(), &out),
                      "mcpauth_client_send_streamed");
        return Stream(out);
    }
    /// POST a JSON-RPC message to the MCP endpoint. Throws Error.
    Response post_json(const std::string &json_body) const {
        mcpauth_response *out = nullptr;
        detail::check(mcpauth_client_post_json(handle_, json_body.c_str(), &out),
                      "mcpauth_client_post_json");
        return Response(out);
    }
    /// One unauthenticated request: {"status":…,"challenge":…} as JSON.
    std::string probe() const {
        return detail::out_required("mcpauth_client_probe", [&](char **out) {
            return mcpauth_client_probe(handle_, out);
        });
    }
    /// Metadata discovery; what was found, as JSON.
    std::string discover() const {
        return detail::out_required("mcpauth_client_discover", [&](char **out) {
            return mcpauth_client_discover(handle_, out);
        });
    }
    /// A valid access token, authorizing or refreshing first if needed (a secret).
    std::string access_token() const {
        return detail::out_required("mcpauth_client_access_token", [&](char **out) {
            return mcpauth_client_access_token(handle_, out);
        });
    }
    /// The usable token held now, refreshing it when about to expire; nullopt when none.
    std::optional<std::string> current_token() const {
        return detail::out_string("mcpauth_client_current_token", [&](char **out) {
            return mcpauth_client_current_token(handle_, out);
        });
    }
    /// After a refused request (401/403), the token to retry with; nullopt when final.
    std::optional<std::string> authorize_after(std::uint16_t status,
                                               const std::string &www_authenticate_json,
                                               const std::optional<std::string> &rejected) const {
        return detail::out_string("mcpauth_client_authorize_after", [&](char **out) {
            return mcpauth_client_authorize_after(
                handle_, status,
                www_authenticate_json.empty() ? nullptr : www_authenticate_json.c_str(),
                rejected ? rejected->c_str() : nullptr, out);
        });
    }
    /// The scope granted with the current token; nullopt when none.
    std::optional<std::string> granted_scope() const {
        return detail::out_string("mcpauth_client_granted_scope", [&](char **out) {
            return mcpauth_client_granted_scope(handle_, out);
        });
    }
    /// Forget this server's tokens (memory and storage).
    void logout() const { detail::check(mcpauth_client_logout(handle_), "mcpauth_client_logout"); }
    /// The redirect URI the client registers and sends.
    std::string redirect_uri() const {
        return detail::out_required("mcpauth_client_redirect_uri", [&](char **out) {
            return mcpauth_client_redirect_uri(handle_, out);
        });
    }
    /// The storage key of this server's tokens (its canonical resource URL).
    std::string resource_key() const {
        return detail::out_required("mcpauth_client_resource_key", [&](char **out) {
            return mcpauth_client_resource_key(handle_, out);
        });
    }
    /// The C handle (still owned by this object), for functions this wrapper does not cover.
    const mcpauth_client *get() const noexcept { return handle_; }

private:
    struct ConfigFree {
        void operator()(mcpauth_client_config *c) const noexcept { mcpauth_client_config_free(c); }
    };

    static Callbacks &of(void *userdata) noexcept { return *static_cast<Callbacks *>(userdata); }

    /// Report a callback's exception through the reply; never lets it unwind into C.
    static int32_t failed(mcpauth_reply *reply, const char *fallback) noexcept {
        try {
            throw;
        } catch (const std::exception &e) {
            mcpauth_reply_set_error(reply, e.what());
        } catch (...) {
            mcpauth_reply_set_error(reply, fallback);
        }
        return 1;
    }

    static void on_trace(void *userdata, const char *event_json) noexcept {
        try {
            of(userdata).trace(event_json);
        } catch (...) {
            // A trace observer cannot fail the flow; the event is dropped.
        }
    }
    static int32_t on_redirect(void *userdata, const char *url, mcpauth_reply *reply) noexcept {
        try {
            std::string redirect = of(userdata).redirect(url);
            return mcpauth_reply_set_value(reply, redirect.c_str()) == MCPAUTH_STATUS_OK ? 0 : 1;
        } catch (...) {
            return failed(reply, "the redirect handler failed");
        }
    }
    static int32_t on_get(void *userdata, const char *kind, const char *key,
                          mcpauth_reply *reply) noexcept {
        try {
            std::optional<std::string> value = of(userdata).storage->get(kind, key);
            if (!value) return 0;
            return mcpauth_reply_set_value(reply, value->c_str()) == MCPAUTH_STATUS_OK ? 0 : 1;
        } catch (...) {
            return failed(reply, "the storage failed to load");
        }
    }
    static int32_t on_set(void *userdata, const char *kind, const char *key, const char *value,
                          mcpauth_reply *reply) noexcept {
        try {
            of(userdata).storage->set(kind, key, value);
            return 0;
        } catch (...) {
            return failed(reply, "the storage failed to save");
        }
    }
    static int32_t on_remove(void *userdata, const char *kind, const char *key,
                             mcpauth_reply *reply) noexcept {
        try {
            of(userdata).storage->remove(kind, key);
            return 0;
        } catch (...) {
            return failed(reply, "the storage failed to remove");
        }
    }

    std::unique_ptr<Callbacks> callbacks_;
    mcpauth_client *handle_ = nullptr;
};

}  // namespace mcpauth

#endif  // MCPAUTH_HPP
