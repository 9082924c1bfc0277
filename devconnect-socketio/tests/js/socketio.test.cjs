// The stock npm socket.io-client (4.8) against a running DevConnect server.
// Run by scripts/suite-socketio.sh once per client configuration:
// DEVCONNECT_URL=http://127.0.0.1:PORT SOCKETIO_TRANSPORTS=default|polling|websocket node --test
// `default` is `io(url)` as most apps call it (long-polling, then the upgrade to WebSocket).
'use strict';

const nodeTest = require('node:test');
const { before, after } = nodeTest;
const assert = require('node:assert/strict');
const { io } = require('socket.io-client');

const BASE = process.env.DEVCONNECT_URL;
const MODE = process.env.SOCKETIO_TRANSPORTS || 'default';
const TRANSPORTS = { default: undefined, polling: ['polling'], websocket: ['websocket'] }[MODE];
// Every test's name says which client configuration it ran with.
const test = (name, fn) => nodeTest.test(`${name} [${MODE}]`, fn);
const WAIT_MS = 10000;
const PASSWORD = 'Str0ng!pass';
const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
const sockets = [];

async function api(method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  return { status: res.status, body: json };
}

async function signup(name) {
  const res = await api('POST', '/auth/signup', {
    firstName: name, lastName: 'Test', emailID: `${name}-${run}@example.com`, password: PASSWORD,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.user._id, token: res.body.token };
}

async function connectPair(a, b) {
  const sent = await api('POST', `/request/send/interested/${b.id}`, {}, a.token);
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const reviewed = await api('POST', `/request/review/accepted/${sent.body.data._id}`, {}, b.token);
  assert.equal(reviewed.status, 200, JSON.stringify(reviewed.body));
}

// A socket opened with this run's client configuration (`extra` adds options).
function open(auth, extra = {}) {
  const options = { auth, reconnection: false, forceNew: true, ...extra };
  if (TRANSPORTS) options.transports = TRANSPORTS;
  const socket = io(BASE, options);
  sockets.push(socket);
  return socket;
}

// Resolves with the first `event` payload satisfying `pick`.
function next(socket, event, pick = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no ${event} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    function handler(data) {
      if (!pick(data)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(data);
    }
    socket.on(event, handler);
  });
}

// Connects and resolves once the first presence list arrives.
async function online(user) {
  const socket = open({ token: user.token });
  const first = await next(socket, 'getOnlineUsers');
  assert.ok(socket.connected);
  return { socket, first };
}

let ada;
let bob;
let cyd;

before(async () => {
  assert.ok(BASE, 'DEVCONNECT_URL must be set');
  assert.ok(MODE in { default: 1, polling: 1, websocket: 1 }, `unknown SOCKETIO_TRANSPORTS ${MODE}`);
  ada = await signup('ada');
  bob = await signup('bob');
  cyd = await signup('cyd');
  await connectPair(ada, bob);
});

after(() => {
  for (const s of sockets) s.disconnect();
});

test('a connection without a token is refused', async () => {
  const socket = open({});
  const err = await next(socket, 'connect_error');
  assert.match(err.message, /token/);
  assert.equal(err.data.code, 'unauthorized');
  assert.equal(socket.connected, false);
});

test('a connection with a bad token or only a userId is refused', async () => {
  const bad = await next(open({ token: 'not.a.token' }), 'connect_error');
  assert.equal(bad.data.code, 'unauthorized');
  const userIdOnly = await next(open({ userId: ada.id }), 'connect_error');
  assert.equal(userIdOnly.data.code, 'unauthorized');
});

test('two connected users see each other online', async () => {
  const a = await online(ada);
  assert.deepEqual(a.first, [ada.id]);
  const seesBob = next(a.socket, 'getOnlineUsers', (ids) => ids.includes(bob.id));
  const b = await online(bob);
  assert.ok(b.first.includes(ada.id) && b.first.includes(bob.id));
  assert.ok((await seesBob).includes(ada.id));
  a.socket.disconnect();
  b.socket.disconnect();
});

test('messages travel both ways via REST and via sendMessage with an ack', async () => {
  const a = await online(ada);
  const b = await online(bob);

  // A → B over REST: both sides get newMessage.
  const bGets = next(b.socket, 'newMessage', (m) => m.text === 'hello via REST');
  const aGets = next(a.socket, 'newMessage', (m) => m.text === 'hello via REST');
  const rest = await api('POST', `/message/${bob.id}`, { text: 'hello via REST' }, ada.token);
  assert.equal(rest.status, 201, JSON.stringify(rest.body));
  assert.equal((await bGets)._id, rest.body._id);
  assert.equal((await aGets).senderId, ada.id);

  // B → A over the socket, acknowledged with the stored message.
  const aGetsReply = next(a.socket, 'newMessage', (m) => m.text === 'hi via socket');
  const ack = await b.socket.timeout(WAIT_MS).emitWithAck('sendMessage', { to: ada.id, text: 'hi via socket', clientMsgId: `c-${run}` });
  assert.equal(ack.text, 'hi via socket');
  assert.equal(ack.senderId, bob.id);
  assert.equal(ack.receiverId, ada.id);
  assert.equal(ack.clientMsgId, `c-${run}`);
  assert.equal((await aGetsReply)._id, ack._id);

  // A → B over the socket too.
  const bGetsSocket = next(b.socket, 'newMessage', (m) => m.text === 'and back via socket');
  const ack2 = await a.socket.timeout(WAIT_MS).emitWithAck('sendMessage', { to: bob.id, text: 'and back via socket' });
  assert.equal((await bGetsSocket)._id, ack2._id);

  // A long message (several WebSocket frames from the server) arrives whole.
  const long = Array.from({ length: 5000 }, (_, i) => ['a', 'é', '€', '🦀'][i % 4]).join('');
  const bGetsLong = next(b.socket, 'newMessage', (m) => m.text.length > 1000);
  const ackLong = await a.socket.timeout(WAIT_MS).emitWithAck('sendMessage', { to: bob.id, text: long });
  assert.equal(ackLong.text, long);
  assert.equal((await bGetsLong).text, long);

  // B → A over REST.
  const aGetsRest = next(a.socket, 'newMessage', (m) => m.text === 'bob via REST');
  const rest2 = await api('POST', `/message/${ada.id}`, { text: 'bob via REST' }, bob.token);
  assert.equal(rest2.status, 201);
  assert.equal((await aGetsRest)._id, rest2.body._id);

  a.socket.disconnect();
  b.socket.disconnect();
});

test('sendMessage to someone who is not a connection gets an error ack', async () => {
  const a = await online(ada);
  const ack = await a.socket.timeout(WAIT_MS).emitWithAck('sendMessage', { to: cyd.id, text: 'hi stranger' });
  assert.deepEqual({ success: ack.success, code: ack.code }, { success: false, code: 'forbidden' });
  a.socket.disconnect();
});

test('a block ends presence and chat between two connections, and the other side cannot tell', async () => {
  const [eve, fay] = [await signup('eve'), await signup('fay')];
  await connectPair(eve, fay);
  const e = await online(eve);
  const f = await online(fay);
  assert.ok(f.first.includes(eve.id));
  const eveGone = next(f.socket, 'getOnlineUsers', (ids) => !ids.includes(eve.id));
  const blocked = await api('POST', `/user/block/${fay.id}`, undefined, eve.token);
  assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
  assert.deepEqual(await eveGone, [fay.id]);
  const ack = await f.socket.timeout(WAIT_MS).emitWithAck('sendMessage', { to: eve.id, text: 'hello?' });
  assert.deepEqual({ success: ack.success, code: ack.code }, { success: false, code: 'forbidden' });
  const profile = await api('GET', `/profile/${eve.id}`, undefined, fay.token);
  assert.equal(profile.status, 404);
  e.socket.disconnect();
  f.socket.disconnect();
});

test('typing reaches the other side', async () => {
  const a = await online(ada);
  const b = await online(bob);
  const typing = next(b.socket, 'typing');
  a.socket.emit('typing', { to: bob.id, typing: true });
  assert.deepEqual(await typing, { userId: ada.id, typing: true });
  const stopped = next(b.socket, 'typing');
  a.socket.emit('typing', { to: bob.id, typing: false });
  assert.deepEqual(await stopped, { userId: ada.id, typing: false });
  a.socket.disconnect();
  b.socket.disconnect();
});

test('presence drops only when the last socket of a user closes', async () => {
  const b = await online(bob);
  const bobSeesAda = next(b.socket, 'getOnlineUsers', (ids) => ids.includes(ada.id));
  const a1 = await online(ada);
  await bobSeesAda;
  const a2 = await online(ada);

  // Closing one of two sockets: Ada stays online (Bob still gets her messages live).
  a1.socket.disconnect();
  const marker = next(b.socket, 'newMessage', (m) => m.text === 'still online');
  let sawOffline = false;
  b.socket.on('getOnlineUsers', (ids) => { if (!ids.includes(ada.id)) sawOffline = true; });
  await a2.socket.timeout(WAIT_MS).emitWithAck('sendMessage', { to: bob.id, text: 'still online' });
  await marker;
  assert.equal(sawOffline, false);

  // Closing the last one: Bob sees Ada go offline.
  const adaGone = next(b.socket, 'getOnlineUsers', (ids) => !ids.includes(ada.id));
  a2.socket.disconnect();
  assert.deepEqual(await adaGone, [bob.id]);
  b.socket.disconnect();
});

test('a reconnect with lastMessageId first delivers what was missed, in order', async () => {
  const first = await api('POST', `/message/${bob.id}`, { text: 'before the gap' }, ada.token);
  assert.equal(first.status, 201);
  const missed = [];
  for (let i = 0; i < 5; i += 1) {
    const res = await api('POST', `/message/${bob.id}`, { text: `missed ${i}` }, ada.token);
    assert.equal(res.status, 201);
    missed.push(res.body._id);
  }
  const socket = open({ token: bob.token, lastMessageId: first.body._id });
  const got = [];
  const done = new Promise((resolve) => {
    socket.on('newMessage', (m) => {
      got.push(m._id);
      if (got.length === missed.length) resolve();
    });
  });
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('catch-up timed out')), WAIT_MS); });
  // Cleared, or the pending timer would keep node from exiting for WAIT_MS.
  await Promise.race([done, late]).finally(() => clearTimeout(timer));
  assert.deepEqual(got, missed);
  socket.disconnect();
});

test('group members hear of joins and departures', async () => {
  const owner = await signup('gia');
  const joiner = await signup('hal');
  const created = await api('POST', '/groups', { name: `Live ${MODE}`, visibility: 'public' }, owner.token);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const group = created.body.data._id;
  const { socket } = await online(owner);
  const added = next(socket, 'groupMemberAdded', (d) => d.groupId === group);
  assert.equal((await api('POST', `/groups/${group}/join`, undefined, joiner.token)).status, 201);
  const member = (await added).member;
  assert.equal(member.userId, joiner.id);
  assert.equal(member.role, 'member');
  const removed = next(socket, 'groupMemberRemoved', (d) => d.groupId === group);
  assert.equal((await api('POST', `/groups/${group}/leave`, undefined, joiner.token)).status, 200);
  assert.equal((await removed).userId, joiner.id);
});

test('group members talk with sendGroupMessage, groupTyping and groupRead, and catch up as groupMessage', async () => {
  const owner = await signup('ivy');
  const member = await signup('jo');
  const created = await api('POST', '/groups', { name: `Talk ${MODE}`, visibility: 'public' }, owner.token);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const group = created.body.data._id;
  assert.equal((await api('POST', `/groups/${group}/join`, undefined, member.token)).status, 201);
  const o = await online(owner);
  const m = await online(member);
  // Group messages never arrive as newMessage: a client that knows only 1:1 chat stays correct.
  let leaked = 0;
  m.socket.on('newMessage', () => { leaked += 1; });

  const mGets = next(m.socket, 'groupMessage', (x) => x.text === 'hello group');
  const ack = await o.socket.timeout(WAIT_MS).emitWithAck('sendGroupMessage', { groupId: group, text: 'hello group', clientMsgId: `g-${run}` });
  assert.equal(ack.groupId, group);
  assert.equal(ack.senderId, owner.id);
  assert.equal(ack.clientMsgId, `g-${run}`);
  assert.equal((await mGets)._id, ack._id);

  const typing = next(m.socket, 'groupTyping', (x) => x.groupId === group);
  const typed = await o.socket.timeout(WAIT_MS).emitWithAck('groupTyping', { groupId: group, typing: true });
  assert.equal(typed.success, true);
  assert.deepEqual(await typing, { groupId: group, userId: owner.id, typing: true });

  const read = next(o.socket, 'groupRead', (x) => x.groupId === group);
  const marked = await api('POST', `/groups/${group}/read`, { messageId: ack._id }, member.token);
  assert.equal(marked.status, 200, JSON.stringify(marked.body));
  assert.deepEqual(await read, { groupId: group, userId: member.id, upTo: ack._id });

  const outsider = await online(await signup('kim'));
  const refused = await outsider.socket.timeout(WAIT_MS).emitWithAck('sendGroupMessage', { groupId: group, text: 'let me in' });
  assert.deepEqual({ success: refused.success, code: refused.code }, { success: false, code: 'forbidden' });
  const malformed = await outsider.socket.timeout(WAIT_MS).emitWithAck('sendGroupMessage', { groupId: 'nope', text: 'x' });
  assert.equal(malformed.code, 'validation');

  // Away while the owner writes; reconnecting after the last message seen replays it.
  m.socket.disconnect();
  const missed = await api('POST', `/groups/${group}/messages`, { text: 'while you were away' }, owner.token);
  assert.equal(missed.status, 201, JSON.stringify(missed.body));
  const again = open({ token: member.token, lastMessageId: ack._id });
  assert.equal((await next(again, 'groupMessage'))._id, missed.body.data._id);
  assert.equal(leaked, 0);
  for (const s of [o.socket, outsider.socket, again]) s.disconnect();
});

test('logout disconnects the socket with a reason and the token cannot reconnect', async () => {
  const user = await signup('dee');
  const { socket } = await online(user);
  const ended = next(socket, 'sessionEnded');
  const disconnected = next(socket, 'disconnect');
  const res = await api('POST', '/auth/logout', undefined, user.token);
  assert.equal(res.status, 200);
  assert.equal((await ended).code, 'token_revoked');
  assert.equal(await disconnected, 'io server disconnect');
  const err = await next(open({ token: user.token }), 'connect_error');
  assert.equal(err.data.code, 'unauthorized');
});

test('deleting the account disconnects its socket, and its connection sees it go offline', async () => {
  const [lou, max] = [await signup('lou'), await signup('max')];
  await connectPair(lou, max);
  const l = await online(lou);
  const m = await online(max);
  const louGone = next(m.socket, 'getOnlineUsers', (ids) => !ids.includes(lou.id));
  const ended = next(l.socket, 'sessionEnded');
  const disconnected = next(l.socket, 'disconnect');
  const res = await api('DELETE', '/profile', { password: PASSWORD }, lou.token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal((await ended).code, 'account_deleted');
  assert.equal(await disconnected, 'io server disconnect');
  assert.deepEqual(await louGone, [max.id]);
  const err = await next(open({ token: lou.token }), 'connect_error');
  assert.equal(err.data.code, 'unauthorized');
  m.socket.disconnect();
});

test('an unknown or foreign lastMessageId is refused with a validation connect_error', async () => {
  const theirs = await api('POST', `/message/${bob.id}`, { text: 'between Ada and Bob' }, ada.token);
  assert.equal(theirs.status, 201);
  for (const lastMessageId of ['0123456789abcdef01234567', theirs.body._id]) {
    // Refused at the handshake, with a code a client can act on, rather than accepted
    // and then closed as an internal error (which the client would reconnect to, in a loop).
    const socket = open({ token: cyd.token, lastMessageId });
    const err = await next(socket, 'connect_error');
    assert.equal(err.data.code, 'validation');
    assert.ok(!socket.connected);
  }
});

test('a browser origin outside the allow-list is refused, an allowed one connects', async () => {
  const foreign = open({ token: ada.token }, { extraHeaders: { origin: 'http://evil.example' } });
  await next(foreign, 'connect_error');
  assert.equal(foreign.connected, false);
  const allowed = open({ token: ada.token }, { extraHeaders: { origin: 'http://localhost:5173' } });
  await next(allowed, 'getOnlineUsers');
  assert.ok(allowed.connected);
  allowed.disconnect();
});

test('the transport is the one this configuration asks for', async () => {
  const { socket } = await online(ada);
  const engine = socket.io.engine;
  if (MODE === 'default') {
    // Starts on polling, then upgrades.
    if (engine.transport.name !== 'websocket') await next(engine, 'upgrade');
    assert.equal(engine.transport.name, 'websocket');
  } else {
    assert.equal(engine.transport.name, MODE);
  }
  socket.disconnect();
});

if (MODE === 'default') {
  test('messages sent while the connection upgrades are neither lost nor duplicated', async () => {
    const a = await online(ada);
    // Everything after this message reaches Bob exactly once, by catch-up or live,
    // whenever his socket joins: so the sends below can start with his handshake and
    // overlap his upgrade (which on loopback may even finish before he joins).
    const mark = await api('POST', `/message/${bob.id}`, { text: 'mark' }, ada.token);
    const sent = [];
    for (let i = 0; i < 5; i += 1) {
      // Caught up when Bob joins, while his upgrade is being probed.
      const missed = await api('POST', `/message/${bob.id}`, { text: `missed ${i}` }, ada.token);
      sent.push(missed.body._id);
    }
    const b = open({ token: bob.token, lastMessageId: mark.body._id });
    const engine = b.io.engine;
    assert.equal(engine.transport.name, 'polling', 'the default client starts on polling');
    const upgraded = new Promise((resolve) => engine.once('upgrade', (t) => resolve(t.name)));
    const received = [];
    b.on('newMessage', (m) => received.push(m._id));
    const acks = [];
    for (let i = 0; i < 15; i += 1) {
      // To Bob over REST, and from Bob over his upgrading socket (buffered until he joins).
      const rest = await api('POST', `/message/${bob.id}`, { text: `during upgrade ${i}` }, ada.token);
      assert.equal(rest.status, 201);
      sent.push(rest.body._id);
      acks.push(b.timeout(WAIT_MS).emitWithAck('sendMessage', { to: ada.id, text: `from bob ${i}` }));
    }
    assert.equal(await upgraded, 'websocket');
    const fromBob = (await Promise.all(acks)).map((m) => m._id);
    const marker = await api('POST', `/message/${bob.id}`, { text: 'after the upgrade' }, ada.token);
    sent.push(marker.body._id);
    const expected = new Set([...sent, ...fromBob]);
    const deadline = Date.now() + WAIT_MS;
    while (received.length < expected.size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(new Set(received).size, received.length, 'no message twice');
    assert.deepEqual(new Set(received), expected, 'every message once');
    assert.deepEqual(received.filter((id) => sent.includes(id)), sent, 'in the order sent');
    assert.deepEqual(received.filter((id) => fromBob.includes(id)), fromBob, 'in the order sent');
    a.socket.disconnect();
    b.disconnect();
  });
}
