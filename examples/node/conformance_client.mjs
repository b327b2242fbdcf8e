// A conformance-suite client over the mcp-auth-client Node package: the same program as the
// Rust one (core/examples/conformance_client.rs) and the Python one
// (examples/python/conformance_client.py), over the Node surface.
//
// Contract (@modelcontextprotocol/conformance): the server URL is the last argument;
// MCP_CONFORMANCE_SCENARIO and MCP_CONFORMANCE_CONTEXT come from the environment. The client maps
// the context to client options and runs initialize, notifications/initialized, tools/list and
// tools/call test-tool (with MCP_CONFORMANCE_PROTOCOL_VERSION >= 2026-07-28: no handshake, every
// request carries _meta). It holds no OAuth logic: discovery, registration, PKCE, scopes,
// step-up, client authentication and retries all happen inside the library (client.send).
// libmcpauth is found through $MCPAUTH_LIB or the system loader.

import { McpAuthClient, version } from 'mcp-auth-client';

/** The CIMD URL the suite expects (basic-cimd); used only when the AS advertises CIMD support. */
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
/** Our own deadline, well under the suite's 30 s per scenario. */
const DEADLINE_MS = 25_000;
/** What MCP streamable HTTP clients accept. */
const MCP_ACCEPT = 'application/json, text/event-stream';
/** The first revision with the stateless wire (no initialize; _meta on every request). */
const STATELESS_FROM = '2026-07-28';

/** The client options for this scenario and context (as the Rust client maps them). */
function options(serverUrl, scenario, context) {
  const o = {
    serverUrl,
    clientName: 'mcp-auth conformance client',
    clientMetadataUrl: CIMD_URL,
    timeoutMs: 10_000,
    redirect: { type: 'headless' }, // the suite's authorization server approves without a login page
    onTrace: (e) => process.stderr.write(`trace: ${JSON.stringify(e)}\n`),
  };
  const str = (v) => typeof v === 'string';
  if (str(context.client_id)) {
    o.clientId = context.client_id;
    if (str(context.client_secret)) o.clientSecret = context.client_secret;
    if (str(context.private_key_pem)) o.privateKeyPem = context.private_key_pem;
    if (str(context.signing_algorithm)) o.signingAlgorithm = context.signing_algorithm;
  }
  if (scenario.includes('client-credentials')) o.grant = 'client_credentials';
  // Workload identity: the context carries the JWT the workload presents (RFC 7523).
  if (str(context.valid_jwt)) {
    o.grant = 'jwt_bearer';
    o.assertion = context.valid_jwt;
  }
  // Enterprise-managed authorization (SEP-990): the IdP side.
  if (str(context.idp_id_token)) {
    o.grant = 'enterprise_managed';
    o.idToken = context.idp_id_token;
    o.idpTokenEndpoint = context.idp_token_endpoint;
    o.idpClientId = context.idp_client_id;
    if ('idp_client_secret' in context) o.idpClientSecret = context.idp_client_secret;
  }
  if (process.env.MCP_CONFORMANCE_PROTOCOL_VERSION !== undefined) {
    o.protocolVersion = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION;
  }
  return o;
}

async function run() {
  const serverUrl = process.argv.at(-1);
  if (process.argv.length < 3) throw new Error('usage: conformance_client.mjs URL');
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  let context = null;
  try {
    context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || 'null');
  } catch {
    context = null;
  }
  if (context === null || typeof context !== 'object' || Array.isArray(context)) context = {};
  const protocolVersion = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
  const stateless = protocolVersion >= STATELESS_FROM;

  const client = await McpAuthClient.create(options(serverUrl, scenario, context));
  let session = null;
  async function send(method, params, id) {
    const body = { jsonrpc: '2.0', method };
    if (stateless) {
      // 2026-07-28 wire: every message carries its protocol version and the client
      // capabilities in _meta.
      params = {
        ...(params ?? {}),
        _meta: {
          'io.modelcontextprotocol/protocolVersion': protocolVersion,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      };
    }
    if (params !== undefined) body.params = params;
    if (id !== undefined) body.id = id;
    const headers = {
      'Content-Type': 'application/json',
      Accept: MCP_ACCEPT,
      'MCP-Protocol-Version': protocolVersion,
      'Mcp-Method': method,
    };
    if (session !== null) headers['Mcp-Session-Id'] = session;
    const response = await client.send({ method: 'POST', url: serverUrl, headers, body: JSON.stringify(body) });
    session = response.header('mcp-session-id') ?? session;
    process.stderr.write(`${method} -> ${response.status}\n`);
    if (!response.ok) throw new Error(`${method} answered ${response.status}`);
    return response.message;
  }

  try {
    // 2026-07-28 is stateless: no initialize handshake (every request carries _meta).
    if (!stateless) {
      await send(
        'initialize',
        { protocolVersion, capabilities: {}, clientInfo: { name: 'mcp-auth-conformance', version: version() } },
        1,
      );
      await send('notifications/initialized');
    }
    await send('tools/list', {}, 2);
    await send('tools/call', { name: 'test-tool', arguments: {} }, 3);
  } finally {
    await client.close();
  }
}

const deadline = setTimeout(() => {
  process.stderr.write('conformance client: deadline reached\n');
  process.exit(3);
}, DEADLINE_MS);
deadline.unref();

try {
  await run();
  process.exitCode = 0;
} catch (e) {
  // Every failure is the client's: report it and exit 1.
  process.stderr.write(`conformance client: ${e?.name ?? 'Error'}: ${e?.message ?? e}\n`);
  process.exitCode = 1;
}
