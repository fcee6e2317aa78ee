// An independent ActivityPub peer for Stoa's interop tests (tests/it/fedify.rs),
// built on Fedify. It serves the actors `alice` and `carol` at
// http://$PEER_IP/users/{name} with RSASSA-PKCS1-v1_5 keys, accepts every
// Follow, logs every activity that reaches an inbox, and has test-only control
// routes under /admin/ (see `admin` below). Run it with tests/fedify/setup.sh
// done: PEER_IP=127.0.0.2 DENO_DIR=.deno node_modules/.bin/deno run -A peer.ts
import {
  createFederation,
  generateCryptoKeyPair,
  InProcessMessageQueue,
  MemoryKvStore,
  verifyRequestDetailed,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  type Actor,
  Create,
  Endpoints,
  Follow,
  isActor,
  Like,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Undo,
} from "@fedify/vocab";

const HOST = Deno.env.get("PEER_IP") ?? "127.0.0.2";
const ORIGIN = `http://${HOST}`;
const AS = "https://www.w3.org/ns/activitystreams";
const keys = new Map<string, CryptoKeyPair>();
for (const name of ["alice", "carol"]) {
  keys.set(name, await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"));
}
const followers = new Map<string, Actor>(); // alice's, by actor id
const notes = new Map<string, Note>(); // alice's, by id

/** One POST to an inbox: what it said, the raw signature check, Fedify's verdict. */
type Received = {
  type: string; id: string | null; actor: string | null; object: string | null;
  objectType: string | null; content: string | null; status: number | null;
  signature: { verified: boolean; keyId: string | null; reason: string | null };
  verified: boolean; // Fedify passed it to a listener (only verified ones get there)
  unverified: string | null; // why Fedify refused it (onUnverifiedActivity)
};
const received: Received[] = [];
const errors: string[] = []; // failed deliveries and listener errors

const federation = createFederation<void>({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  allowPrivateAddress: true,
  // Fedify's default is "rfc9421"; the tests set draft-cavage but for one.
  firstKnock: Deno.env.get("PEER_FIRST_KNOCK") === "rfc9421"
    ? "rfc9421"
    : "draft-cavage-http-signatures-12",
  onOutboxError: (error, activity) => {
    errors.push(`delivery of ${activity?.id?.href}: ${error}`);
  },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (!keys.has(identifier)) return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `${identifier} (Fedify)`,
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => {
    const pair = keys.get(identifier);
    return pair ? [pair] : [];
  });

federation.setFollowersDispatcher(
  "/users/{identifier}/followers",
  (_ctx, identifier) => ({ items: identifier === "alice" ? [...followers.values()] : [] }),
);

federation.setObjectDispatcher(
  Note,
  "/users/{identifier}/notes/{id}",
  (ctx, values) => notes.get(ctx.getObjectUri(Note, values).href) ?? null,
);

/** Mark the logged POST that carried `activity` as delivered to a listener. */
function delivered(activity: Activity, field: "verified" | "unverified", why = "") {
  const id = activity.id?.href ?? null;
  const entry = received.findLast((e) => e.id === id && !e.verified && e.unverified === null);
  if (entry && field === "verified") entry.verified = true;
  if (entry && field === "unverified") entry.unverified = why;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    delivered(follow, "verified");
    const target = follow.objectId && ctx.parseUri(follow.objectId);
    if (!target || target.type !== "actor") return;
    const follower = await follow.getActor(ctx);
    if (!isActor(follower) || !follower.id) return;
    if (target.identifier === "alice") followers.set(follower.id.href, follower);
    const me = ctx.getActorUri(target.identifier);
    await ctx.sendActivity({ identifier: target.identifier }, follower, new Accept({
      id: new URL(`${me.href}#accepts/${crypto.randomUUID()}`),
      actor: me,
      object: follow,
    }));
  })
  .on(Undo, (_ctx, undo) => {
    delivered(undo, "verified");
    if (undo.actorId) followers.delete(undo.actorId.href);
  })
  .on(Activity, (_ctx, activity) => delivered(activity, "verified"))
  .onUnverifiedActivity((_ctx, activity, reason) => delivered(activity, "unverified", reason.type))
  .onError((_ctx, error) => void errors.push(`inbox listener: ${error}`));

/** Log an inbox POST with an independent signature check, then let Fedify handle it. */
async function inbox(req: Request): Promise<Response> {
  const text = await req.clone().text();
  let json: Record<string, any> = {};
  try { json = JSON.parse(text); } catch { /* logged as type "?" */ }
  const ctx = federation.createContext(req, undefined);
  const check = await verifyRequestDetailed(req.clone(), {
    documentLoader: ctx.documentLoader,
    contextLoader: ctx.contextLoader,
    spec: req.headers.has("signature-input") ? "rfc9421" : "draft-cavage-http-signatures-12",
  });
  const object = json.object;
  const entry: Received = {
    type: String(json.type ?? "?"), id: json.id ?? null, actor: json.actor ?? null,
    object: typeof object === "string" ? object : object?.id ?? null,
    objectType: typeof object === "object" ? object?.type ?? null : null,
    content: typeof object === "object" ? object?.content ?? null : null, status: null,
    signature: check.verified
      ? { verified: true, keyId: check.key.id?.href ?? null, reason: null }
      : { verified: false, keyId: null, reason: check.reason.type },
    verified: false, unverified: null,
  };
  received.push(entry);
  const response = await federation.fetch(req, { contextData: undefined });
  entry.status = response.status;
  return response;
}

const b64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const sha256 = async (body: string) =>
  b64(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));

/**
 * POST to `inbox` an activity signed (draft-cavage, by hand) as alice that
 * breaks exactly one rule, named by `kind`: a Follow of `target`, or for
 * wrong-origin a Create of a Note mentioning it. "valid" and "valid-create"
 * break none.
 */
async function forge(kind: string, inbox: URL, target: string) {
  const ctx = federation.createContext(new URL(ORIGIN), undefined);
  const alice = ctx.getActorUri("alice").href;
  const nonce = crypto.randomUUID();
  const [pair] = await ctx.getActorKeyPairs("alice");
  let privateKey = pair.privateKey;
  let actor = alice;
  if (kind === "wrong-key") privateKey = (await generateCryptoKeyPair("RSASSA-PKCS1-v1_5")).privateKey;
  if (kind === "wrong-actor") actor = ctx.getActorUri("carol").href;
  let activity: Record<string, unknown> = {
    "@context": AS, id: `${actor}#forged/${nonce}`, type: "Follow", actor, object: target,
  };
  if (kind === "wrong-origin" || kind === "valid-create") {
    const host = kind === "wrong-origin" ? "http://elsewhere.invalid" : ORIGIN;
    const note = {
      id: `${host}/notes/${nonce}`, type: "Note", attributedTo: alice,
      content: `<p>forged ${nonce}</p>`, to: [`${AS}#Public`], cc: [target],
      tag: [{ type: "Mention", href: target }],
    };
    activity = { ...activity, type: "Create", object: note, to: note.to, cc: note.cc };
  } else if (!["valid", "wrong-key", "wrong-actor", "stale-date", "bad-digest"].includes(kind)) {
    throw new Error(`unknown kind ${kind}`);
  }
  const body = JSON.stringify(activity);
  const when = kind === "stale-date" ? Date.now() - 2 * 3600 * 1000 : Date.now();
  const headers: Record<string, string> = {
    host: inbox.host,
    date: new Date(when).toUTCString(),
    digest: `SHA-256=${await sha256(body)}`,
    "content-type": "application/activity+json",
  };
  const names = ["(request-target)", "host", "date", "digest", "content-type"];
  const signed = names.map((name) =>
    name === "(request-target)"
      ? `(request-target): post ${inbox.pathname}${inbox.search}`
      : `${name}: ${headers[name]}`
  ).join("\n");
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5", privateKey, new TextEncoder().encode(signed),
  );
  headers.signature = `keyId="${pair.keyId.href}",algorithm="rsa-sha256",` +
    `headers="${names.join(" ")}",signature="${b64(signature)}"`;
  // The body is altered after its digest was signed.
  const sent = kind === "bad-digest" ? body.replace(nonce, `${nonce}-altered`) : body;
  delete headers.host; // fetch sets it from the URL, as signed
  const response = await fetch(inbox, { method: "POST", headers, body: sent, redirect: "manual" });
  return { status: response.status, body: await response.text(), activity: JSON.parse(sent) };
}

/** Test-only control routes; each answers JSON. */
async function admin(req: Request, url: URL): Promise<Response> {
  const ctx = federation.createContext(new URL(ORIGIN), undefined);
  const param = (name: string) => {
    const value = url.searchParams.get(name);
    if (!value) throw new Error(`missing ?${name}=`);
    return value;
  };
  const alice = ctx.getActorUri("alice");
  const id = (kind: string) => new URL(`${alice.href}#${kind}/${crypto.randomUUID()}`);
  switch (`${req.method} ${url.pathname}`) {
    case "GET /admin/log":
      return Response.json({ received, errors, followers: [...followers.keys()] });
    case "POST /admin/follow": {
      const target = await ctx.lookupObject(param("target"));
      if (!isActor(target) || !target.id) throw new Error(`${param("target")} is not an actor`);
      const follow = new Follow({ id: id("follows"), actor: alice, object: target.id });
      await ctx.sendActivity({ identifier: "alice" }, target, follow);
      return Response.json({ id: follow.id?.href });
    }
    case "POST /admin/post": {
      const note = new Note({
        id: ctx.getObjectUri(Note, { identifier: "alice", id: crypto.randomUUID() }),
        attribution: alice,
        content: `<p>${param("text").replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`,
        to: PUBLIC_COLLECTION,
        cc: ctx.getFollowersUri("alice"),
        published: Temporal.Now.instant(),
      });
      notes.set(note.id!.href, note);
      const create = new Create({
        id: new URL(`${note.id!.href}#create`), actor: alice, object: note,
        to: PUBLIC_COLLECTION, cc: ctx.getFollowersUri("alice"), published: note.published,
      });
      await ctx.sendActivity({ identifier: "alice" }, "followers", create, { preferSharedInbox: true });
      return Response.json({ id: note.id?.href });
    }
    case "POST /admin/like": {
      const note = await ctx.lookupObject(param("object"));
      if (!(note instanceof Note) || !note.id) throw new Error(`${param("object")} is not a Note`);
      const author = await note.getAttribution(ctx);
      if (!isActor(author)) throw new Error(`no author for ${note.id.href}`);
      const like = new Like({ id: id("likes"), actor: alice, object: note.id });
      await ctx.sendActivity({ identifier: "alice" }, author, like);
      return Response.json({ id: like.id?.href });
    }
    case "POST /admin/forge":
      return Response.json(await forge(param("kind"), new URL(param("inbox")), param("target")));
    default:
      return Response.json({ error: "no such route" }, { status: 404 });
  }
}

Deno.serve({
  hostname: HOST,
  port: Number(Deno.env.get("PEER_PORT") ?? 80),
  onListen: ({ hostname, port }) => console.error(`fedify peer listening on ${hostname}:${port}`),
}, async (req) => {
  const url = new URL(req.url);
  try {
    if (url.pathname.startsWith("/admin/")) return await admin(req, url);
    if (req.method === "POST" && /^\/(users\/[^/]+\/)?inbox$/.test(url.pathname)) {
      return await inbox(req);
    }
    return await federation.fetch(req, { contextData: undefined });
  } catch (error) {
    console.error(`${req.method} ${url.pathname}:`, error);
    return Response.json({ error: String(error) }, { status: 500 });
  }
});
