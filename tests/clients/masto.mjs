// Drives fedblog's client API with masto.js (pinned in package.json), as Elk does.
//
//   node masto.mjs register <base> <redirect-uri>     → the app, as JSON
//   node masto.mjs session <base>   < {clientId, clientSecret, redirectUri, code, steps}
//   node masto.mjs steps <base> <token>                < {steps}
//
// `session` exchanges an authorization code (masto posts JSON to /oauth/token), then
// runs the steps; `steps` runs them with a token. Each step is {op, ...}; the output is
// {token?, results: [...]}, one result per step. A failing call prints the error and
// exits 1, so the test sees what the server said.
import { readFileSync } from "node:fs";
import { createOAuthAPIClient, createRestAPIClient } from "masto";

const [command, base, arg] = process.argv.slice(2);
const SCOPES = "read write follow";

async function step(rest, s) {
  switch (s.op) {
    case "verifyCredentials":
      return rest.v1.accounts.verifyCredentials();
    case "instance":
      return rest.v2.instance.fetch();
    case "notifications":
      return rest.v1.notifications.list({ limit: s.limit, types: s.types });
    case "post":
      return rest.v1.statuses.create({
        status: s.status,
        inReplyToId: s.inReplyToId,
        visibility: s.visibility,
        mediaIds: s.mediaIds,
        spoilerText: s.spoilerText,
      });
    case "upload": {
      const file = new Blob([readFileSync(s.path)], { type: s.type });
      return rest.v2.media.create({ file, description: s.description });
    }
    case "context":
      return rest.v1.statuses.$select(s.id).context.fetch();
    case "favourite":
      return rest.v1.statuses.$select(s.id).favourite();
    case "search":
      return rest.v2.search.list({ q: s.q, resolve: true, type: s.type });
    case "follow":
      return rest.v1.accounts.$select(s.id).follow();
    case "relationships":
      return rest.v1.accounts.relationships.fetch({ id: s.ids });
    case "home":
      return rest.v1.timelines.home.list({ limit: s.limit });
    case "local":
      return rest.v1.timelines.public.list({ local: true, limit: s.limit });
    default:
      throw new Error(`unknown step ${s.op}`);
  }
}

async function run(token, steps) {
  const rest = createRestAPIClient({ url: base, accessToken: token });
  const results = [];
  for (const s of steps ?? []) results.push(await step(rest, s));
  return results;
}

try {
  if (command === "register") {
    const rest = createRestAPIClient({ url: base });
    const app = await rest.v1.apps.create({
      clientName: "masto.js test",
      redirectUris: arg,
      scopes: SCOPES,
      website: "https://elk.example",
    });
    console.log(JSON.stringify(app));
  } else if (command === "session") {
    const input = JSON.parse(readFileSync(0, "utf8"));
    const oauth = createOAuthAPIClient({ url: base });
    const token = await oauth.token.create({
      grantType: "authorization_code",
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      redirectUri: input.redirectUri,
      code: input.code,
      scope: SCOPES,
    });
    const results = await run(token.accessToken, input.steps);
    console.log(JSON.stringify({ token: token.accessToken, results }));
  } else if (command === "steps") {
    const input = JSON.parse(readFileSync(0, "utf8"));
    console.log(JSON.stringify({ results: await run(arg, input.steps) }));
  } else {
    throw new Error("usage: masto.mjs register|session|steps <base> ...");
  }
} catch (e) {
  console.error(`masto.js: ${e?.message ?? e}`, e?.statusCode ?? "", e?.description ?? "");
  process.exit(1);
}
