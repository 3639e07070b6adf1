// node's `oidc-provider` as the reference beside mock-idp in scripts/bench-python.py: dynamic
// registration, authorize with PKCE S256 (login and consent granted at once by the interaction
// route below), token, userinfo. Prints {"base_url": …} when it listens, like `mock-idp serve`.
//   node scripts/oidc-provider-bench.mjs DIR   (DIR/node_modules/oidc-provider)
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
const { default: Provider } = await import(pathToFileURL(path.join(dir, 'node_modules/oidc-provider/lib/index.js')));
process.stdin.on('end', () => process.exit(0)); // stop with the parent, as mock-idp does
process.stdin.resume();

const server = http.createServer();
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(base, {
  features: { registration: { enabled: true }, devInteractions: { enabled: false }, revocation: { enabled: true } },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: 'ada@example.com' }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
const callback = provider.callback();
server.on('request', async (req, res) => {
  if (!req.url.startsWith('/interaction/')) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId: 'ada', clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: 'ada' }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
});
console.log(JSON.stringify({ base_url: base }));
