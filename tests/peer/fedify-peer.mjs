#!/usr/bin/env node
// A real third-party ActivityPub peer built on Fedify, for fedblog's tests.
//
//   node tests/peer/fedify-peer.mjs --port <N>     (0 = pick a free port)
//
// Listens on 127.0.0.1; its public origin is http://localhost:<port>.
// Prints exactly one line "READY <port>" on stdout, logs to stderr.
// Control API under /_control/ (see README.md).  Signatures are verified
// strictly (skipSignatureVerification stays false).

import { Temporal } from "@js-temporal/polyfill";
// Node 20 has no global Temporal; install it before Fedify is loaded.
if (globalThis.Temporal == null) globalThis.Temporal = Temporal;

import http from "node:http";
import fs from "node:fs";
import { inspect } from "node:util";
import { AsyncLocalStorage } from "node:async_hooks";

const {
  createFederation,
  MemoryKvStore,
  generateCryptoKeyPair,
} = await import("@fedify/fedify");
const vocab = await import("@fedify/vocab");
const {
  Accept, Activity, Announce, Create, Delete, Endpoints, Follow, Like, Move,
  Note, Person, Reject, Undo, Update, getTypeId, isActor,
} = vocab;
const { configure, getTextFormatter } = await import("@logtape/logtape");

// ---------------------------------------------------------------- options
function parseArgs(argv) {
  const opts = { port: 0, logLevel: process.env.FEDIFY_PEER_LOG ?? "info" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port") opts.port = Number(argv[++i]);
    else if (a.startsWith("--port=")) opts.port = Number(a.slice(7));
    else if (a === "--log-level") opts.logLevel = argv[++i];
    else if (a === "--no-ed25519") opts.noEd25519 = true;
    else if (a === "--no-auto-accept") opts.noAutoAccept = true;
    else if (a === "--unsigned-key-fetch") opts.unsignedKeyFetch = true;
    else {
      process.stderr.write(`unknown argument: ${a}\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    process.stderr.write("--port must be an integer 0..65535\n");
    process.exit(2);
  }
  return opts;
}
const opts = parseArgs(process.argv.slice(2));
const IDENTIFIER = "reader";
// The reader's alsoKnownAs (POST /_control/aliases).
let aliases = [];

// ---------------------------------------------------------------- logging
// Everything goes to stderr.  Fedify's log lines emitted while one incoming
// request is handled are also captured (debug level included) and attached
// to that request's entry in `attempts`, so a test can see WHY a delivery
// was rejected (digest mismatch, key fetch error, ...).
const als = new AsyncLocalStorage();
const LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"];
const stderrLevel = Math.max(0, LEVELS.indexOf(opts.logLevel));
const textFormatter = getTextFormatter();
const brief = (v) =>
  typeof v === "string" ? v : inspect(v, { depth: 3, breakLength: Infinity, maxStringLength: 2000 });
function renderMessage(record) {
  return record.message.map((p, i) => (i % 2 === 0 ? p : brief(p))).join("");
}
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    main(record) {
      const store = als.getStore();
      if (store?.log != null && record.category[0] === "fedify") {
        const text = renderMessage(record);
        const m = /^(Linked Data Signatures|Object Integrity Proofs|HTTP Signatures) are verified\./.exec(text);
        if (m != null && store.attempt != null) {
          store.attempt.verifiedBy = { "Linked Data Signatures": "ld-signature", "Object Integrity Proofs": "object-integrity-proof", "HTTP Signatures": "http-signature" }[m[1]];
        }
        if (!text.startsWith("Using preloaded context") && store.log.length < 200) {
          store.log.push(`${record.level} ${record.category.join(".")}: ${text}`);
        }
      }
      if (LEVELS.indexOf(record.level) >= stderrLevel) process.stderr.write(textFormatter(record));
    },
  },
  loggers: [
    { category: ["fedify"], sinks: ["main"], lowestLevel: "debug" },
    { category: ["peer"], sinks: ["main"], lowestLevel: "debug" },
    { category: ["logtape", "meta"], sinks: ["main"], lowestLevel: "warning" },
  ],
});
const log = (msg) => { if (stderrLevel <= 2) process.stderr.write(`[fedify-peer] ${msg}\n`); };

// ---------------------------------------------------------------- state
const received = [];   // verified activities delivered to our inboxes
const attempts = [];   // every POST to an inbox, with the status we answered
const errors = [];     // inbox onError + failures of background sends
const requests = [];   // every other (non-control) request made to us
const outgoing = [];   // every HTTP request Fedify made (fetches and POSTs)
const follows = new Map(); // followId -> { actorId, inbox }
const notes = new Map();   // local id -> JSON-LD of objects we published

// Record every outgoing HTTP request Fedify makes (wraps global fetch).
const realFetch = globalThis.fetch;
globalThis.fetch = async function recordingFetch(input, init) {
  const req = new Request(input, init);
  let body = null;
  if (req.method !== "GET" && req.method !== "HEAD") {
    try { body = await req.clone().text(); } catch { body = null; }
  }
  const entry = {
    method: req.method,
    url: req.url,
    headers: Object.fromEntries(req.headers),
    body,
    status: null,
    error: null,
    at: new Date().toISOString(),
  };
  outgoing.push(entry);
  try {
    const res = await realFetch(req);
    entry.status = res.status;
    return res;
  } catch (e) {
    entry.error = String(e?.cause ?? e);
    throw e;
  }
};

// ---------------------------------------------------------------- keys
// RSA-2048 (Fedify's own default is 4096) for HTTP and LD signatures, plus
// Ed25519 for Object Integrity Proofs (FEP-8b32), as Fedify apps usually have.
const keyPairs = [await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true,
  ["sign", "verify"],
)];
if (!opts.noEd25519) keyPairs.push(await generateCryptoKeyPair("Ed25519"));

// ---------------------------------------------------------------- server
const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    log(`handler crashed: ${e?.stack ?? e}`);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(e));
  });
});
await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(opts.port, "127.0.0.1", resolve);
});
const PORT = server.address().port;
const ORIGIN = `http://localhost:${PORT}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin: ORIGIN,
  allowPrivateAddress: true, // lets it fetch http://localhost:* (tests only)
  skipSignatureVerification: false,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify Test Reader",
      summary: "A Fedify peer used by fedblog's integration tests.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
      aliases: aliases.map((u) => new URL(u)),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === IDENTIFIER ? keyPairs : []));

federation.setObjectDispatcher(Note, "/notes/{id}", (_ctx, { id }) => notes.get(id) ?? null);

const shortType = (obj) => {
  const href = getTypeId(obj).href;
  return href.slice(Math.max(href.lastIndexOf("#"), href.lastIndexOf("/")) + 1);
};
const signedLoader = (ctx) => ctx.getDocumentLoader({ identifier: IDENTIFIER });

async function record(ctx, activity, extra = {}) {
  const store = ctx.data ?? {};
  const entry = {
    type: shortType(activity),
    id: activity.id?.href ?? null,
    actorId: activity.actorId?.href ?? null,
    objectId: activity.objectId?.href ?? null,
    inbox: store.path ?? null,
    verifiedBy: store.attempt?.verifiedBy ?? null,
    raw: store.raw ?? null,
    json: store.json ?? null,
    receivedAt: new Date().toISOString(),
    ...extra,
  };
  received.push(entry);
  if (store.attempt != null) store.attempt.recorded = true;
  log(`received ${entry.type} ${entry.id} from ${entry.actorId}`);
  return entry;
}

async function recordWithAttribution(ctx, activity) {
  const extra = { objectType: null, attributedToResolved: null, attributionError: null };
  try {
    const documentLoader = await signedLoader(ctx);
    const object = await activity.getObject({ documentLoader, contextLoader: ctx.contextLoader });
    if (object == null) {
      extra.attributionError = "object could not be resolved";
    } else {
      extra.objectType = shortType(object);
      extra.objectId = object.id?.href ?? null;
      if (typeof object.getAttribution !== "function") {
        extra.attributionError = `object type ${extra.objectType} has no attributedTo`;
      } else {
        const actor = await object.getAttribution({ documentLoader, contextLoader: ctx.contextLoader });
        extra.attributedToResolved = actor?.id?.href ?? null;
        if (actor == null) extra.attributionError = "attributedTo missing or not dereferenceable";
      }
    }
  } catch (e) {
    extra.attributionError = String(e?.message ?? e);
  }
  return record(ctx, activity, extra);
}

function runInBackground(what, fn) {
  // als.exit: the background work's logs do not belong to the inbox request.
  als.exit(() => setImmediate(() => {
    fn().catch((e) => {
      errors.push({ source: what, message: String(e?.message ?? e), at: new Date().toISOString() });
      log(`${what} failed: ${e?.message ?? e}`);
    });
  }));
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  // Key fetches for shared-inbox deliveries are signed as `reader` too
  // (personal-inbox deliveries always use the recipient's signed loader).
  .setSharedKeyDispatcher(() => (opts.unsignedKeyFetch ? null : { identifier: IDENTIFIER }))
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    if (opts.noAutoAccept || follow.id == null || follow.actorId == null) return;
    // Answer with Accept{Follow} after the inbox response, like real servers.
    runInBackground("auto-accept", async () => {
      const documentLoader = await signedLoader(ctx);
      const follower = await follow.getActor({ documentLoader, contextLoader: ctx.contextLoader });
      if (follower == null) throw new Error(`cannot resolve follower ${follow.actorId.href}`);
      const accept = new Accept({
        id: new URL(`/accepts/${crypto.randomUUID()}`, ORIGIN),
        actor: ctx.getActorUri(IDENTIFIER),
        object: follow,
      });
      await ctx.sendActivity({ identifier: IDENTIFIER }, follower, accept, { immediate: true });
    });
  })
  .on(Accept, (ctx, a) => record(ctx, a))
  .on(Reject, (ctx, a) => record(ctx, a))
  .on(Create, (ctx, a) => recordWithAttribution(ctx, a))
  .on(Update, (ctx, a) => recordWithAttribution(ctx, a))
  .on(Delete, (ctx, a) => record(ctx, a))
  .on(Undo, (ctx, a) => record(ctx, a))
  .on(Announce, (ctx, a) => record(ctx, a))
  .on(Like, (ctx, a) => record(ctx, a))
  .on(Move, (ctx, a) => record(ctx, a))
  .on(Activity, (ctx, a) => record(ctx, a)) // catch-all for other types
  .onUnverifiedActivity((ctx, activity, reason) => {
    const store = ctx.data ?? {};
    if (store.attempt != null) {
      store.attempt.unverified = {
        reason: reason.type,
        keyId: reason.keyId?.href ?? null,
        keyFetchStatus: reason.result?.status ?? null,
        keyFetchError: reason.result?.error != null ? String(reason.result.error) : null,
      };
    }
    // returning nothing keeps Fedify's 401
  })
  .onError((ctx, error) => {
    errors.push({
      source: "inbox",
      path: ctx.data?.path ?? null,
      message: String(error?.message ?? error),
      at: new Date().toISOString(),
    });
  });

// ---------------------------------------------------------------- HTTP glue
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req, res) {
  const body = await readBody(req);
  const url = new URL(req.url, ORIGIN);
  if (url.pathname.startsWith("/_control/")) return control(req.method, url.pathname, body, res);

  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined });

  const raw = hasBody ? body.toString("utf8") : null;
  let json = null;
  try { json = raw ? JSON.parse(raw) : null; } catch { /* not JSON */ }
  const store = { path: url.pathname, raw, json, log: [], attempt: null };
  const isInboxPost = req.method === "POST" &&
    (url.pathname === "/inbox" || /^\/users\/[^/]+\/inbox$/.test(url.pathname));
  if (isInboxPost) {
    store.attempt = {
      path: url.pathname,
      status: null,
      activityId: typeof json?.id === "string" ? json.id : null,
      activityType: json?.type ?? null,
      contentType: headers.get("content-type"),
      hasSignatureInput: headers.has("signature-input"),
      hasSignature: headers.has("signature"),
      hasDigest: headers.has("digest"),
      hasContentDigest: headers.has("content-digest"),
      signature: headers.get("signature"),
      signatureInput: headers.get("signature-input"),
      recorded: false,
      verifiedBy: null,
      unverified: null,
      responseBody: null,
      log: store.log,
      at: new Date().toISOString(),
    };
    attempts.push(store.attempt);
  }

  const response = await als.run(store, () =>
    federation.fetch(request, {
      contextData: store,
      onNotFound: () => new Response("Not found\n", { status: 404, headers: { "content-type": "text/plain" } }),
      onNotAcceptable: () => new Response("Not acceptable\n", { status: 406, headers: { "content-type": "text/plain" } }),
    }));
  const out = Buffer.from(await response.arrayBuffer());

  if (store.attempt != null) {
    store.attempt.status = response.status;
    if (response.status >= 400) store.attempt.responseBody = out.toString("utf8").slice(0, 1000);
    log(`inbox POST ${url.pathname} ${json?.type ?? "?"} -> ${response.status}`);
  } else {
    requests.push({
      method: req.method,
      path: url.pathname + url.search,
      accept: headers.get("accept"),
      status: response.status,
      hasSignature: headers.has("signature"),
      hasSignatureInput: headers.has("signature-input"),
      at: new Date().toISOString(),
    });
  }
  const outHeaders = {};
  response.headers.forEach((v, k) => { outHeaders[k] = v; });
  res.writeHead(response.status, outHeaders);
  res.end(req.method === "HEAD" ? undefined : out);
}

// ---------------------------------------------------------------- control API
function controlContext() {
  return federation.createContext(new URL(ORIGIN), {});
}

async function lookup(ctx, target) {
  const documentLoader = await signedLoader(ctx);
  const obj = await ctx.lookupObject(target, { documentLoader });
  if (obj == null) throw new Error(`lookup of ${target} returned nothing (fetch failed, not AS2, or id on another origin)`);
  return obj;
}

async function describe(ctx, obj) {
  const out = {
    ok: true,
    type: shortType(obj),
    id: obj.id?.href ?? null,
    json: await obj.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader }),
  };
  if (isActor(obj)) {
    out.inbox = obj.inboxId?.href ?? null;
    out.sharedInbox = obj.endpoints?.sharedInbox?.href ?? null;
    out.preferredUsername = obj.preferredUsername?.toString() ?? null;
    out.name = obj.name?.toString() ?? null;
    out.publicKeyIds = obj.publicKeyIds.map((u) => u.href);
    const keys = [];
    for await (const k of obj.getPublicKeys({ documentLoader: await signedLoader(ctx), suppressError: true })) {
      keys.push({ id: k.id?.href ?? null, owner: k.ownerId?.href ?? null, hasPublicKey: k.publicKey != null });
    }
    out.publicKeys = keys;
  }
  return out;
}

async function resolveActor(ctx, actorUrl) {
  const actor = await lookup(ctx, actorUrl);
  if (!isActor(actor)) throw new Error(`${actorUrl} is a ${shortType(actor)}, not an actor`);
  return actor;
}

// Build an activity from loose JSON supplied by a test; fills in @context,
// actor, id, and ids of embedded Notes (which we then serve at /notes/<id>).
async function buildActivity(ctx, json) {
  json = structuredClone(json);
  json["@context"] ??= "https://www.w3.org/ns/activitystreams";
  json.actor ??= ctx.getActorUri(IDENTIFIER).href;
  json.id ??= new URL(`/activities/${crypto.randomUUID()}`, ORIGIN).href;
  const obj = json.object;
  if (obj != null && typeof obj === "object" && !Array.isArray(obj) && obj.type === "Note") {
    if (obj.id == null) obj.id = new URL(`/notes/${crypto.randomUUID()}`, ORIGIN).href;
    obj.attributedTo ??= json.actor;
  }
  const activity = await Activity.fromJsonLd(json, { contextLoader: ctx.contextLoader, documentLoader: ctx.documentLoader });
  const embedded = obj != null && typeof obj === "object" ? obj : null;
  if (embedded?.type === "Note" && typeof embedded.id === "string" && embedded.id.startsWith(`${ORIGIN}/notes/`)) {
    const note = await activity.getObject({ contextLoader: ctx.contextLoader });
    if (note instanceof Note) notes.set(embedded.id.slice(`${ORIGIN}/notes/`.length), note);
  }
  return activity;
}

async function control(method, path, body, res) {
  let input = {};
  if (method === "POST" && body.length > 0) {
    try { input = JSON.parse(body.toString("utf8")); } catch (e) { return sendJson(res, 400, { ok: false, error: `bad JSON: ${e.message}` }); }
  }
  const ctx = controlContext();
  try {
    if (method === "GET" && path === "/_control/health") return sendJson(res, 200, { ok: true, origin: ORIGIN, actor: ctx.getActorUri(IDENTIFIER).href });
    if (method === "GET" && path === "/_control/inbox") return sendJson(res, 200, { received, attempts, errors });
    if (method === "GET" && path === "/_control/outgoing") return sendJson(res, 200, { outgoing, requests });
    if (method === "POST" && path === "/_control/reset") {
      for (const a of [received, attempts, errors, requests, outgoing]) a.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (method === "POST" && path === "/_control/aliases") {
      // The reader's alsoKnownAs, as a Mastodon user sets it before moving here.
      if (!Array.isArray(input.alsoKnownAs)) throw new Error("body must be {\"alsoKnownAs\": [\"<actor url>\", ...]}");
      aliases = input.alsoKnownAs.map(String);
      return sendJson(res, 200, { ok: true, alsoKnownAs: aliases });
    }
    if (method === "POST" && path === "/_control/lookup") {
      if (typeof input.url !== "string") throw new Error("body must be {\"url\": \"...\"}");
      return sendJson(res, 200, await describe(ctx, await lookup(ctx, input.url)));
    }
    if (method === "POST" && path === "/_control/thread") {
      // A post's conversation as Fedify reads it: its `context` and `replies`
      // collections, walked page by page (item ids; the items are not fetched).
      if (typeof input.url !== "string") throw new Error("body must be {\"url\": \"...\"}");
      const documentLoader = await signedLoader(ctx);
      const walk = async (collection) => {
        const items = [];
        let page = await collection.getFirst({ documentLoader });
        for (let n = 0; page != null && n < 100; n++) {
          items.push(...page.itemIds.map((u) => u.href));
          page = await page.getNext({ documentLoader });
        }
        return { type: shortType(collection), id: collection.id?.href ?? null,
          totalItems: collection.totalItems, owner: collection.attributionId?.href ?? null, items };
      };
      const post = await lookup(ctx, input.url);
      const contextIds = post.contextIds.map((u) => u.href);
      const context = contextIds.length > 0 ? await walk(await lookup(ctx, contextIds[0])) : null;
      const replies = await post.getReplies({ documentLoader });
      return sendJson(res, 200, { ok: true, contextIds, context, replies: replies && await walk(replies) });
    }
    if (method === "POST" && path === "/_control/webfinger") {
      if (typeof input.resource !== "string") throw new Error("body must be {\"resource\": \"acct:...\"}");
      const jrd = await ctx.lookupWebFinger(input.resource);
      if (jrd == null) throw new Error(`WebFinger lookup of ${input.resource} failed (Fedify resolves acct: over https only)`);
      return sendJson(res, 200, { ok: true, jrd });
    }
    if (method === "POST" && path === "/_control/follow") {
      if (typeof input.actor !== "string") throw new Error("body must be {\"actor\": \"...\"}");
      const actor = await resolveActor(ctx, input.actor);
      const followId = new URL(`/follows/${crypto.randomUUID()}`, ORIGIN);
      const follow = new Follow({ id: followId, actor: ctx.getActorUri(IDENTIFIER), object: actor.id });
      follows.set(followId.href, { actorId: actor.id.href });
      await ctx.sendActivity({ identifier: IDENTIFIER }, actor, follow, {
        immediate: true,
        preferSharedInbox: input.sharedInbox === true,
      });
      return sendJson(res, 200, { ok: true, followId: followId.href, inbox: actor.inboxId?.href ?? null });
    }
    if (method === "POST" && path === "/_control/unfollow") {
      if (typeof input.actor !== "string") throw new Error("body must be {\"actor\": \"...\", \"followId\": \"...\"}");
      const actor = await resolveActor(ctx, input.actor);
      let followId = input.followId;
      if (followId == null) {
        for (const [id, f] of follows) if (f.actorId === actor.id.href) followId = id;
      }
      if (followId == null) throw new Error("no followId given and no earlier follow of that actor");
      const undo = new Undo({
        id: new URL(`${new URL(followId).pathname}/undo/${crypto.randomUUID()}`, ORIGIN),
        actor: ctx.getActorUri(IDENTIFIER),
        object: new Follow({ id: new URL(followId), actor: ctx.getActorUri(IDENTIFIER), object: actor.id }),
      });
      await ctx.sendActivity({ identifier: IDENTIFIER }, actor, undo, {
        immediate: true,
        preferSharedInbox: input.sharedInbox === true,
      });
      return sendJson(res, 200, { ok: true, undoId: undo.id.href });
    }
    if (method === "POST" && path === "/_control/send") {
      if (typeof input.to !== "string" || input.activity == null) throw new Error("body must be {\"to\": \"<actor>\", \"activity\": {...}}");
      const actor = await resolveActor(ctx, input.to);
      const activity = await buildActivity(ctx, input.activity);
      await ctx.sendActivity({ identifier: IDENTIFIER }, actor, activity, {
        immediate: true,
        preferSharedInbox: input.sharedInbox === true,
      });
      return sendJson(res, 200, {
        ok: true,
        id: activity.id.href,
        objectId: activity.objectId?.href ?? null,
      });
    }
    return sendJson(res, 404, { ok: false, error: `no control endpoint ${method} ${path}` });
  } catch (e) {
    log(`control ${path} failed: ${e?.stack ?? e}`);
    const out = { ok: false, error: String(e?.message ?? e) };
    if (e?.statusCode != null) out.status = e.statusCode; // SendActivityError
    if (e?.responseBody != null) out.responseBody = e.responseBody;
    return sendJson(res, 502, out);
  }
}

// ---------------------------------------------------------------- lifecycle
let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  log(`shutting down (${why})`);
  server.close();
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
// Die with the parent: if stdin is a pipe (e.g. Rust's Stdio::piped()),
// exit when it closes.  A /dev/null or TTY stdin is ignored.
try {
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on("end", () => shutdown("stdin closed"));
    process.stdin.on("close", () => shutdown("stdin closed"));
    process.stdin.on("error", () => shutdown("stdin error"));
    process.stdin.resume();
  }
} catch { /* no stdin */ }

log(`listening on 127.0.0.1:${PORT}, actor ${ORIGIN}/users/${IDENTIFIER}`);
process.stdout.write(`READY ${PORT}\n`);
