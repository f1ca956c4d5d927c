// flows.ts drives the API with the client generated from the OpenAPI
// document the server serves: tsc checks that every call and answer is
// typed by the document, and at run time the SDK checks every request and
// answer against the document's zod schemas. run.sh runs it against
// `go run ./example` with a none project:
//
//	node build/flows.js ORIGIN CLIENT_ID CLIENT_SECRET
//
// Nothing but the base URL is set on the generated client.
import { client } from './gen/client.gen.js';
import { createClient, urlSearchParamsBodySerializer } from './gen/client/index.js';
import * as api from './gen/index.js';
import { zUserAnswer } from './gen/zod.gen.js';

declare const process: { argv: string[]; exitCode?: number };

const [origin, clientId, clientSecret] = process.argv.slice(2);
// A relative server URL (/api/v1) serves a page of the same origin as it
// is; from Node the base URL is the origin followed by it.
client.setConfig({ baseUrl: `${origin}/api/v1` });

/** A failed call's error, narrowed by its HTTP status to the body the document gives that status. */
type Failure<Errors> = { [S in keyof Errors]: { status: S; body: Errors[S] } }[keyof Errors];

function failure<Errors>(r: { error?: unknown; response?: Response }): Failure<Errors> {
  if (r.error === undefined || !r.response) {
    throw new Error('want the call to fail, it did not');
  }
  return { status: r.response.status, body: r.error } as Failure<Errors>;
}

/** What a generated client passes to send a body as a form: the document's form schemas are valid JSON bodies too. */
const asForm = {
  bodySerializer: urlSearchParamsBodySerializer.bodySerializer,
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
};

function check(ok: boolean, what: string): void {
  if (!ok) {
    throw new Error(what);
  }
}

function oneNoStore(r: { response?: Response }, what: string): void {
  // fetch joins the lines of a header: a second Cache-Control line would show here.
  const cc = r.response?.headers.get('cache-control');
  check(cc === 'no-store', `${what}: got Cache-Control ${cc}, want no-store alone`);
}

/** The auth code of a login or signup answer in a none project. */
function authCode(answer: api.LoginAnswer | undefined): string {
  check(answer?.project_type === 'none', `got ${JSON.stringify(answer)}, want a none project's answer`);
  return (answer as api.AuthCodeIssued).code;
}

async function tokens(code: string): Promise<api.TokenAnswer> {
  const r = await api.getAccessToken({ body: { client_id: clientId, client_secret: clientSecret, code } });
  check(r.data !== undefined, `api-tauth-token: ${JSON.stringify(r.error)}`);
  return r.data!;
}

const email = `ts-${Date.now()}@example.com`;
const password = 'correct horse battery staple';
const flows: [string, () => Promise<void>][] = [];
let access = '';
let cookie = '';

flows.push(['signup, api-tauth-token, user', async () => {
  const signup = await api.signup({
    body: {
      client_id: clientId, client_secret: clientSecret, email, password,
      first_name: 'Ada', last_name: 'Lovelace', mobile_number: 11223344, meta: { address: 'NJ' },
    },
  });
  const t = await tokens(authCode(signup.data));
  check(t.user.provider === '', 'the token answer has provider');
  access = t.access_token;
  const user = await api.getUser({ auth: access });
  const u: api.User | undefined = user.data?.user;
  check(u?.email === email && u.meta === '{"address":"NJ"}', `user: got ${JSON.stringify(user.data)}`);
  zUserAnswer.parse(user.data);
}]);

flows.push(['signup as a form', async () => {
  const form = {
    client_id: clientId, client_secret: clientSecret, email: `form-${email}`, password,
    first_name: 'Form', last_name: 'Body', mobile_number: '(123) 456-78', meta: 'as text',
  } satisfies api.SignupForm;
  const r = await api.signup({ body: form, ...asForm });
  check(r.request?.headers.get('content-type') === 'application/x-www-form-urlencoded', 'the form was not sent as a form');
  const t = await tokens(authCode(r.data));
  check(t.user.mobile_number === '(123) 456-78', `form signup: got ${JSON.stringify(t.user)}`);
}]);

flows.push(['errors typed by status: 401 and 422', async () => {
  const login = failure<api.LoginErrors>(await api.login({
    body: { client_id: clientId, client_secret: clientSecret, email, password: 'not the password' },
  }));
  check(login.status === 401, `wrong password: got ${login.status}`);
  const again = failure<api.SignupErrors>(await api.signup({
    body: { client_id: clientId, client_secret: clientSecret, email, password, first_name: 'A', last_name: 'B', mobile_number: 1 },
  }));
  if (again.status !== 422) {
    throw new Error(`taken email: got ${again.status}, want 422`);
  }
  const why: string[] | undefined = again.body.errors['email'];
  check(why !== undefined && why.length > 0, `taken email: got ${JSON.stringify(again.body)}`);
}]);

flows.push(['login, session, logout by cookie', async () => {
  const login = await api.login({ body: { client_id: clientId, client_secret: clientSecret, email, password } });
  const t = await tokens(authCode(login.data));
  const session = await api.startSession({ auth: t.access_token });
  check(session.data?.status === 'success', `session: ${JSON.stringify(session.error)}`);
  oneNoStore(session, 'POST /session');
  cookie = (session.response?.headers.getSetCookie() ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('__Host-ihoprauth=')) ?? '';
  check(cookie !== '', 'POST /session set no session cookie');
  const bare = createClient({ baseUrl: `${origin}/api/v1` });
  const logout = await api.logout({ client: bare, headers: { Cookie: cookie } });
  check(logout.data?.status === 'success', `cookie logout: ${JSON.stringify(logout.error)}`);
  oneNoStore(logout, 'cookie logout');
  const dead = failure<api.LogoutErrors>(await api.logout({ client: bare, headers: { Cookie: cookie } }));
  check(dead.status === 401, `logout with an ended session: got ${dead.status}, want 401`);
}]);

flows.push(['logout by bearer token', async () => {
  const r = await api.logout({ auth: access });
  check(r.data?.status === 'success', `logout: ${JSON.stringify(r.error)}`);
  check(r.request !== undefined && !r.request.headers.has('cookie'), `logout sent Cookie ${r.request?.headers.get('cookie')}: the bearer token as a cookie`);
  const gone = failure<api.GetUserErrors>(await api.getUser({ auth: access }));
  check(gone.status === 401 && gone.body.message !== '', `user after logout: got ${gone.status}`);
}]);

let passed = 0;
let failed = 0;
for (const [name, flow] of flows) {
  try {
    await flow();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
console.log(`tsclient: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
