// The interop suite's authorization server: node `oidc-provider` (pinned in
// interop/package.json), configured as an MCP authorization server on loopback.
//
//   node oidc/server.mjs PORT RESOURCE EVENTS_JSONL [--no-refresh] [--dpop-required]
//                        [--no-registration-management]
//                        [--private-key-jwt CLIENT_KEY_PEM]
//
// --dpop-required: every registered client gets `dpop_bound_access_tokens: true` (RFC 9449
// §5.2): token requests without a DPoP proof are refused, tokens (and a public client's
// refresh tokens) are bound to the proof's key. --private-key-jwt: a pre-registered client
// `interop-pkjwt` (client_credentials) that authenticates at the token endpoint with
// `private_key_jwt` (RFC 7523), its public JWK derived from the key in CLIENT_KEY_PEM.
// --no-registration-management: no RFC 7592 update (oidc-provider then answers a PUT to the
// registration_client_uri with 404; step-up registers again).
//
// Dynamic registration (RFC 7591) with management (RFC 7592), PKCE, resource indicators
// (RFC 8707) issuing JWT access tokens for RESOURCE, `iss` in the authorization response
// (RFC 9207), refresh-token rotation, client_credentials (a pre-registered confidential
// client), DPoP, short token lifetimes. The login and consent pages are oidc-provider's own
// (devInteractions); interop/browser.py plays the user. Every provider event is appended to
// EVENTS_JSONL as one JSON line: the suite checks the flows from these, not from the client.
import { appendFileSync, readFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, resource, eventsFile, ...flags] = process.argv.slice(2);
const noRefresh = flags.includes('--no-refresh');
// Without RFC 7592 management (no update; step-up then registers again).
const management = !flags.includes('--no-registration-management');
const dpopRequired = flags.includes('--dpop-required');
const pkjwtKey = flags.includes('--private-key-jwt') ? flags[flags.indexOf('--private-key-jwt') + 1] : null;
const issuer = `http://127.0.0.1:${port}`;
// Access token lifetime in seconds, from the suite (interop/harness.py TOKEN_TTL).
const TOKEN_TTL = Number(process.env.INTEROP_TOKEN_TTL);
if (!(TOKEN_TTL > 0)) throw new Error('INTEROP_TOKEN_TTL (seconds) is not set');

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'ES256' };

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  clients: [
    {
      client_id: 'interop-cc',
      client_secret: 'interop-cc-secret-0123456789abcdef',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:tools',
    },
    ...(pkjwtKey ? [{
      client_id: 'interop-pkjwt',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...createPublicKey(readFileSync(pkjwtKey)).export({ format: 'jwk' }), use: 'sig', alg: 'ES256' }] },
      scope: 'mcp:tools',
    }] : []),
  ],
  scopes: ['openid', 'offline_access', 'mcp:tools', 'mcp:admin'],
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    id_token_signed_response_alg: 'ES256',
    ...(dpopRequired ? { dpop_bound_access_tokens: true } : {}),
  },
  enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256'], dPoPSigningAlgValues: ['ES256', 'RS256'] },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    registrationManagement: { enabled: management, rotateRegistrationAccessToken: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
        return {
          scope: 'mcp:tools mcp:admin',
          audience: resource,
          accessTokenTTL: TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => !noRefresh && client.grantTypeAllowed('refresh_token'),
  ttl: { AccessToken: TOKEN_TTL, ClientCredentials: TOKEN_TTL, RefreshToken: 3600, Grant: 3600, Session: 3600, Interaction: 600, AuthorizationCode: 60 },
  loadExistingGrant: async (ctx) => {
    // Consent is asked once per client; later authorizations reuse the grant.
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  },
});

const log = (event, fields) => appendFileSync(eventsFile, JSON.stringify({ event, ...fields }) + '\n');
const clientOf = (ctx) => ctx?.oidc?.client?.clientId ?? null;
for (const event of [
  'grant.success', 'grant.error', 'grant.revoked', 'authorization.success', 'authorization.error',
  'registration_create.success', 'registration_create.error', 'registration_update.success',
  'registration_update.error', 'registration_delete.success', 'refresh_token.consumed',
  'refresh_token.saved', 'access_token.issued', 'client_credentials.issued', 'interaction.started',
  'interaction.ended', 'server_error', 'revocation.error',
]) {
  provider.on(event, (...args) => {
    const ctx = args.find((a) => a && a.oidc);
    const err = args.find((a) => a instanceof Error);
    const model = args.find((a) => a && a.kind);
    const fields = { client_id: clientOf(ctx) ?? model?.clientId ?? null };
    if (ctx?.oidc?.params?.grant_type) fields.grant_type = ctx.oidc.params.grant_type;
    if (ctx?.oidc?.params?.scope) fields.scope = ctx.oidc.params.scope;
    if (model?.kind) fields.kind = model.kind;
    if (model?.jti) fields.jti = model.jti;
    if (model?.jkt) fields.jkt = model.jkt;
    if (event === 'grant.success' && ctx?.oidc?.client) fields.auth_method = ctx.oidc.client.tokenEndpointAuthMethod;
    if (model?.jkt || ctx?.oidc?.params?.dpop) fields.dpop = true;
    if (err) fields.error = `${err.error || err.name}: ${err.error_description || err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`;
    if (event === 'grant.success' || event === 'access_token.issued' || event === 'client_credentials.issued') {
      const cnf = model?.['x5t#S256'] || model?.jkt;
      if (cnf) fields.dpop = true;
    }
    log(event, fields);
  });
}

provider.listen(Number(port), '127.0.0.1', () => {
  log('listening', { issuer });
  console.log(`oidc-provider listening on ${issuer}`);
});
