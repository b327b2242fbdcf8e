// The provider-quirks authorization server: node `oidc-provider` (pinned in
// interop/package.json) configured like interop/oidc/server.mjs, then made to behave like the
// providers MCP hosts connect to (docs/providers.md, interop/scenarios/providers.py):
//
//   node oidc/quirks.mjs PORT RESOURCE EVENTS_JSONL [QUIRK...]
//
//   --reject-resource      Entra ID v2: an authorization request with `resource` is refused
//                          (invalid_target, AADSTS9010010); tokens are still issued for
//                          RESOURCE (the granted default)
//   --require-audience     Auth0: `resource` is ignored; an authorization request without
//                          `audience` is refused; `audience` names the API (the resource)
//   --google               Google: `offline_access` is an invalid scope; a refresh token only
//                          with access_type=offline
//   --fixed-redirect URI   Slack, Cognito, GitHub: a pre-registered public client
//                          `interop-fixed` whose only redirect URI is URI, compared exactly
//   --device               RFC 8628 device authorization grant offered
//   --tenant TID           Entra ID multi-tenant: the issuer is http://127.0.0.1:PORT/TID/v2.0,
//                          and /common/v2.0/.well-known/openid-configuration serves its metadata
//                          with the issuer template http://127.0.0.1:PORT/{tenantid}/v2.0;
//                          access tokens carry `tid`
//   --alias-metadata       an issuer mismatch (Clerk-backed servers, Atlassian authv2, ...):
//                          /alias/.well-known/openid-configuration serves this AS's metadata,
//                          whose issuer is http://127.0.0.1:PORT, so a client that discovers
//                          it for the issuer http://127.0.0.1:PORT/alias sees another issuer
//
// Every provider event goes to EVENTS_JSONL (one JSON line), plus `quirk.refused` lines for the
// requests a quirk refused: the suite judges the flows from these, not from the client.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, resource, eventsFile, ...args] = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const tenant = option('--tenant');
const origin = `http://127.0.0.1:${port}`;
const prefix = tenant ? `/${tenant}/v2.0` : '';
const issuer = `${origin}${prefix}`;
const COMMON_METADATA = '/common/v2.0/.well-known/openid-configuration';
const ALIAS_METADATA = '/alias/.well-known/openid-configuration';
// Access token lifetime in seconds, from the suite (interop/harness.py TOKEN_TTL).
const TOKEN_TTL = Number(process.env.INTEROP_TOKEN_TTL);
if (!(TOKEN_TTL > 0)) throw new Error('INTEROP_TOKEN_TTL (seconds) is not set');
const fixedRedirect = option('--fixed-redirect');
const offlineClients = new Set(); // Google: clients that asked for access_type=offline

const log = (event, fields) => appendFileSync(eventsFile, JSON.stringify({ event, ...fields }) + '\n');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'ES256' };
const actionFirst = (form) => form.replace(/<form ([^>]*?)method="post" action="([^"]*)">/, '<form action="$2" $1method="post">');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const clients = [];
if (fixedRedirect) {
  clients.push({
    client_id: 'interop-fixed',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [fixedRedirect],
  });
}

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  clients,
  scopes: ['openid', 'offline_access', 'mcp:tools', 'mcp:admin'],
  clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    revocation: { enabled: true },
    deviceFlow: {
      enabled: flag('--device'),
      // oidc-provider's own forms, with `action` first (interop/browser.py reads them).
      userCodeInputSource: async (ctx, form) => {
        ctx.body = `<!doctype html><title>Device</title>${actionFirst(form)}`;
      },
      userCodeConfirmSource: async (ctx, form, client, deviceInfo, userCode) => {
        ctx.body = `<!doctype html><title>Confirm device</title><p>Code ${esc(userCode)}</p>${actionFirst(form)}`;
      },
      successSource: async (ctx) => {
        ctx.body = '<!doctype html><title>Done</title><p>Device authorized. You may close this window.</p>';
      },
    },
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
  extraTokenClaims: async () => (tenant ? { tid: tenant } : undefined),
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => {
    if (!client.grantTypeAllowed('refresh_token')) return false;
    if (flag('--google')) return offlineClients.has(client.clientId);
    return true;
  },
  ttl: { AccessToken: TOKEN_TTL, RefreshToken: 3600, Grant: 3600, Session: 3600, Interaction: 600, AuthorizationCode: 60, DeviceCode: 600 },
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  },
});

// Refuse an authorization request the way the provider does: back to the client's redirect
// URI with an RFC 6749 §4.1.2.1 error (the redirect URI is checked by the provider first, so
// only registered ones are used here).
async function refuseAuthorization(ctx, error, description) {
  const q = ctx.query;
  const client = await provider.Client.find(String(q.client_id || ''));
  log('quirk.refused', { endpoint: 'authorization', error, description, client_id: q.client_id ?? null });
  if (!client || !client.redirectUris.includes(String(q.redirect_uri))) {
    ctx.status = 400;
    ctx.body = `<!doctype html><title>Error</title><p>${esc(error)}: ${esc(description)}</p>`;
    return;
  }
  const target = new URL(String(q.redirect_uri));
  target.searchParams.set('error', error);
  target.searchParams.set('error_description', description);
  if (q.state) target.searchParams.set('state', String(q.state));
  target.searchParams.set('iss', issuer);
  ctx.redirect(target.href);
}

provider.use(async (ctx, next) => {
  if (ctx.req.commonAlias) {
    // Entra's /common metadata: this tenant's document, naming the issuer template.
    await next();
    if (ctx.body && typeof ctx.body === 'object') ctx.body = { ...ctx.body, issuer: `${origin}/{tenantid}/v2.0` };
    return undefined;
  }
  if (ctx.path === '/auth' && ctx.method === 'GET') {
    const q = { ...ctx.query };
    const scope = String(q.scope || '').split(' ');
    if (flag('--reject-resource') && q.resource) {
      return refuseAuthorization(ctx, 'invalid_target', 'AADSTS9010010: The resource parameter provided in the request doesn\'t match with the requested scopes.');
    }
    if (flag('--google') && scope.includes('offline_access')) {
      return refuseAuthorization(ctx, 'invalid_scope', 'Some requested scopes were invalid. {invalid=[offline_access]}');
    }
    if (flag('--require-audience')) {
      if (!q.audience) {
        return refuseAuthorization(ctx, 'invalid_request', 'audience is required: without it the access token is opaque and not for your API');
      }
      // Auth0 ignores `resource`; `audience` names the API.
      q.resource = q.audience;
      delete q.audience;
    }
    if (flag('--google')) {
      if (q.access_type === 'offline') offlineClients.add(String(q.client_id));
      delete q.access_type;
    }
    ctx.querystring = new URLSearchParams(q).toString();
  }
  return next();
});

const clientOf = (ctx) => ctx?.oidc?.client?.clientId ?? null;
for (const event of [
  'grant.success', 'grant.error', 'authorization.success', 'authorization.error',
  'registration_create.success', 'registration_create.error', 'refresh_token.consumed',
  'refresh_token.saved', 'access_token.issued', 'interaction.started', 'interaction.ended',
  'server_error', 'device_code.saved',
]) {
  provider.on(event, (...evArgs) => {
    const ctx = evArgs.find((a) => a && a.oidc);
    const err = evArgs.find((a) => a instanceof Error);
    const model = evArgs.find((a) => a && a.kind);
    const fields = { client_id: clientOf(ctx) ?? model?.clientId ?? null };
    if (ctx?.oidc?.params?.grant_type) fields.grant_type = ctx.oidc.params.grant_type;
    if (ctx?.oidc?.params?.scope) fields.scope = ctx.oidc.params.scope;
    if (ctx?.oidc?.params?.redirect_uri) fields.redirect_uri = ctx.oidc.params.redirect_uri;
    if (model?.kind) fields.kind = model.kind;
    if (model?.jti) fields.jti = model.jti;
    if (err) fields.error = `${err.error || err.name}: ${err.error_description || err.message}`;
    log(event, fields);
  });
}

// Mounted under the issuer's path (a tenant's /TID/v2.0); the /common alias of the metadata.
const callback = provider.callback();
const server = createServer((req, res) => {
  if (flag('--alias-metadata') && req.url === ALIAS_METADATA) {
    // Served as if requested at the root (no mount path): the endpoints stay the issuer's.
    log('quirk.alias_metadata', {});
    req.url = '/.well-known/openid-configuration';
  } else if (tenant && req.url === COMMON_METADATA) {
    req.commonAlias = true;
    req.originalUrl = `${prefix}/.well-known/openid-configuration`;
    req.url = '/.well-known/openid-configuration';
  } else if (tenant && req.url.startsWith(prefix)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
  }
  callback(req, res);
});
server.listen(Number(port), '127.0.0.1', () => {
  log('listening', { issuer, quirks: args });
  console.log(`oidc-provider (quirks ${args.join(' ')}) listening on ${issuer}`);
});
