// Propylon's Node.js runtime client: what a worker process runs for a `nodejs*` function.
//
// How it works. The process loads the handler named by `_HANDLER` (the rules and the error
// names are AWS's runtime interface client's), then loops on the Lambda Runtime API at
// `AWS_LAMBDA_RUNTIME_API`: take an event, run the handler, post its result or error, repeat.
// A failed load is posted to `/runtime/init/error` and the process exits with code 129.
//
// - One TCP connection, kept for the life of the process, speaks just enough HTTP/1.1: requests
//   carry a Content-Length, and so do the server's answers (it never chunks). An answer is
//   matched to its request by order. The result of an invocation and the request for the next
//   event leave in one write (pipelining); the 202 and the next event come back on the same
//   connection.
// - The socket is unref'd whenever no answer is awaited, which is always the case while a
//   handler runs. So `beforeExit` fires when the handler's own work is done, which is how a
//   callback handler's result waits for an empty event loop (`callbackWaitsForEmptyEventLoop`),
//   and how a handler that never completes is noticed.
// - An uncaught exception or unhandled rejection during an invocation is posted as that
//   invocation's error and the process exits (129 resp. 128), so the next invocation starts a
//   fresh process. Between invocations nothing can be blamed: the process just exits.
// - console.* is replaced by Lambda's log lines, written synchronously to stdout so that a line
//   the handler printed is in the pipe before its result is posted.
//
// One dependency-free ES module; Node's built-in modules only; nothing newer than Node 16.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const env = process.env;
const require = createRequire(import.meta.url);

// ---- errors: the runtime's own types, and the documents built from any thrown value ----------

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const type of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  type.prototype.name = `Runtime.${type.name}`;
}

function isErrorLike(value) {
  return Boolean(
    value &&
      value.name &&
      value.message &&
      value.stack &&
      typeof value.name === 'string' &&
      typeof value.message === 'string' &&
      typeof value.stack === 'string',
  );
}

/** The error document posted to the Runtime API: `trace` holds the stack's lines. */
function errorDocument(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

/** An error as the log shows it: its enumerable properties too, and `stack` as lines. */
function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const shown = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') shown.stack = value.stack.split('\n');
  return shown;
}

function formatError(error) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => withEnumerableProperties(value));
  } catch {
    return '\t' + JSON.stringify(errorDocument(error));
  }
}

// ---- logging: console.* becomes Lambda's log lines ----------------------------------------------

let requestId; // `undefined` in the log until the first invocation, as in Lambda
let tenantId;

const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };

function textLine(level, message, params) {
  const text = util.format(message, ...params);
  return `${new Date().toISOString()}\t${requestId}\t${level}\t${text}`;
}

function jsonErrorReplacer(_key, value) {
  if (!(value instanceof Error)) return value;
  return Object.assign(
    {
      errorType: value?.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    },
    value,
  );
}

function jsonRecord(level, message, params) {
  const record = { timestamp: new Date().toISOString(), level, requestId };
  if (tenantId !== undefined && tenantId !== null) record.tenantId = tenantId;
  if (params.length === 0) {
    record.message = message;
    try {
      return JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = util.format(record.message);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(message, ...params);
  for (const param of [message, ...params]) {
    if (param instanceof Error) {
      record.errorType = param?.constructor?.name ?? 'UnknownError';
      record.errorMessage = param.message;
      record.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(record);
}

const jsonFormat = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';

/** Replace console.* and return the runtime's own error logger (`Invoke Error` lines...). */
function patchConsole() {
  const render = jsonFormat ? jsonRecord : textLine;
  const threshold = LEVELS[env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  // One call, one line: newlines inside a message become \r (Lambda keeps it one event).
  const write = (level, message, params) =>
    process.stdout.write(render(level, message, params).replace(/\n/g, '\r') + '\n');
  const nothing = () => {};
  const logger = (level) =>
    LEVELS[level] >= threshold ? (message, ...params) => write(level, message, params) : nothing;
  console.trace = logger('TRACE');
  console.debug = logger('DEBUG');
  console.info = logger('INFO');
  console.log = console.info;
  console.warn = logger('WARN');
  console.error = logger('ERROR');
  console.fatal = (message, ...params) => write('FATAL', message, params);
  const error = console.error;
  return jsonFormat
    ? (_title, value) => error(intoError(value))
    : (title, value) => error(title, formatError(intoError(value)));
}

const logError = patchConsole();

/** The runtime's own complaints (about the Runtime API) go to stderr, plainly. */
function complain(text) {
  process.stderr.write(`bootstrap: ${text}\n`);
}

// ---- loading the handler ------------------------------------------------------------------------

function packageTypeIsModule(folder) {
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const manifest = path.join(folder, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(manifest));
        if (pkg) return pkg.type === 'module';
      } catch (e) {
        console.warn(
          `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
          e,
        );
        return false;
      }
    }
    if (folder === '/') return false;
    folder = path.dirname(folder);
  }
}

function requireIfExists(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function importIfExists(file) {
  return fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
}

/** The module `{taskRoot}/{dir}{name}`, tried in the order AWS's runtime tries. */
async function loadModule(taskRoot, dir, name) {
  const base = path.resolve(taskRoot, dir, name);
  const extensionless = requireIfExists(base);
  if (extensionless) return extensionless;
  const jsIsModule = fs.existsSync(`${base}.js`) && packageTypeIsModule(path.dirname(base));
  if (!jsIsModule) {
    const commonjs = requireIfExists(`${base}.js`);
    if (commonjs) return commonjs;
  }
  const loaded =
    (jsIsModule && (await importIfExists(`${base}.js`))) ||
    (await importIfExists(`${base}.mjs`)) ||
    requireIfExists(`${base}.cjs`);
  if (loaded) return loaded;
  return require(require.resolve(name, { paths: [taskRoot, path.resolve(taskRoot, dir)] }));
}

async function loadHandler(taskRoot, handlerName) {
  if (handlerName.includes('..')) {
    throw new MalformedHandlerName(
      `'${handlerName}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const slash = handlerName.lastIndexOf('/');
  const match = /^([^.]*)\.(.*)$/.exec(handlerName.slice(slash + 1));
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, name, exportPath] = match;
  let app;
  try {
    app = await loadModule(taskRoot, handlerName.slice(0, slash + 1), name);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const handler = exportPath.split('.').reduce((object, key) => object && object[key], app);
  if (!handler) throw new HandlerNotFound(`${handlerName} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${handlerName} is not a function`);
  return handler;
}

function isAsyncFunction(fn) {
  try {
    return fn.constructor?.name === 'AsyncFunction';
  } catch {
    return false;
  }
}

// ---- the Runtime API connection -----------------------------------------------------------------

const API_ADDRESS = env.AWS_LAMBDA_RUNTIME_API;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const NEXT = `GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: ${API_ADDRESS}\r\n\r\n`;

function post(path, body, errorType) {
  const typeHeader =
    errorType === undefined
      ? ''
      : `Lambda-Runtime-Function-Error-Type: ${String(errorType).replace(/[^\x20-\x7E]/g, '')}\r\n`;
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${API_ADDRESS}\r\n` +
    `Content-Type: application/json\r\n${typeHeader}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** An answer's status line and the headers this client reads (a fixed shape: it is fast). */
function parseHead(text) {
  const head = {
    status: Number(text.slice(9, 12)),
    length: 0,
    requestId: undefined,
    deadlineMs: undefined,
    functionArn: undefined,
    traceId: undefined,
    clientContext: undefined,
    cognitoIdentity: undefined,
    tenantId: undefined,
  };
  let start = text.indexOf('\r\n') + 2;
  while (start > 1) {
    const end = text.indexOf('\r\n', start);
    const line = end < 0 ? text.slice(start) : text.slice(start, end);
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon).trim().toLowerCase()) {
      case 'content-length': head.length = Number(value); break;
      case 'lambda-runtime-aws-request-id': head.requestId = value; break;
      case 'lambda-runtime-deadline-ms': head.deadlineMs = Number(value); break;
      case 'lambda-runtime-invoked-function-arn': head.functionArn = value; break;
      case 'lambda-runtime-trace-id': head.traceId = value; break;
      case 'lambda-runtime-client-context': head.clientContext = value; break;
      case 'lambda-runtime-cognito-identity': head.cognitoIdentity = value; break;
      case 'lambda-runtime-aws-tenant-id': head.tenantId = value; break;
    }
    start = end + 2;
  }
  return head;
}

class RuntimeApi {
  constructor(address, fd) {
    const colon = address.lastIndexOf(':');
    this.awaiting = []; // one callback per request sent and not answered yet, in order
    this.chunks = [];
    this.size = 0;
    this.head = null; // the head of the answer whose body is still arriving
    // A connection the worker was started with (a Unix socket), else one to the address.
    this.socket =
      fd === undefined
        ? net.connect(Number(address.slice(colon + 1)), address.slice(0, colon))
        : new net.Socket({ fd, readable: true, writable: true });
    this.socket.setNoDelay(true);
    this.socket.unref();
    this.socket.on('data', (chunk) => this.receive(chunk));
    this.socket.on('error', (error) => {
      complain(`the Runtime API connection failed: ${error.message}`);
      process.exit(1);
    });
    this.socket.on('close', () => {
      // Closed once the last result was sent and the next event asked for: the worker is being
      // stopped. Closed at any other time: something was lost.
      if (this.awaiting[this.awaiting.length - 1] === nextEvent) process.exit(0);
      complain('the Runtime API closed the connection');
      process.exit(1);
    });
  }

  /** Send `text` (one or more requests); `callbacks` take their answers, in order. */
  send(text, ...callbacks) {
    if (this.awaiting.length === 0) this.socket.ref();
    this.awaiting.push(...callbacks);
    this.socket.write(text);
  }

  receive(chunk) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.head === null) {
        if (this.size === 0) return;
        const buffer = this.flatten();
        const end = buffer.indexOf(CRLFCRLF);
        if (end < 0) return;
        this.head = parseHead(buffer.toString('utf8', 0, end));
        this.keep(buffer.subarray(end + 4));
      }
      if (this.size < this.head.length) return;
      const buffer = this.flatten();
      const head = this.head;
      this.head = null;
      this.keep(buffer.subarray(head.length));
      const callback = this.awaiting.shift();
      if (this.awaiting.length === 0) this.socket.unref();
      if (callback === undefined) complain(`an answer nobody asked for: ${head.status}`);
      else callback(head, buffer.subarray(0, head.length));
    }
  }

  flatten() {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0];
  }

  keep(rest) {
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
  }
}

/** An answer to a POST: anything but 202 is logged; a 5xx means the runtime must stop. */
function acknowledged(path, then) {
  return (head, body) => {
    if (head.status !== 202) {
      complain(`the Runtime API answered ${head.status} to POST ${path}: ${body.toString()}`);
      if (head.status >= 500) process.exit(1);
    }
    if (then) then();
  };
}

// ---- invocations --------------------------------------------------------------------------------

const STATIC_CONTEXT = {
  functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
  functionName: env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
};
const ALREADY_DONE =
  'Invocation has already been reported as done. Cannot call complete more than once per invocation.';

if (!API_ADDRESS) {
  complain('AWS_LAMBDA_RUNTIME_API is not set');
  process.exit(1);
}
const fdOption = process.argv.indexOf('--runtime-api-fd');
const api = new RuntimeApi(
  API_ADDRESS,
  fdOption > 0 ? Number(process.argv[fdOption + 1]) : undefined,
);
let handler;
let handlerIsAsync = false;
let initialised = false;
let current = null; // the invocation running and not answered yet
let exitListener = () => {}; // what `beforeExit` does for the current invocation
let crashing = false;

function parseJson(text, name) {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot parse ${name} as json: ${e.toString()}`);
  }
}

function serialize(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

function respond(invocation, payload) {
  const path = `/2018-06-01/runtime/invocation/${encodeURIComponent(invocation.id)}/response`;
  api.send(post(path, payload) + NEXT, acknowledged(path), nextEvent);
}

/** Post an invocation's error; then ask for the next event, or call `then` (to exit). */
function reportError(invocation, error, then) {
  const path = `/2018-06-01/runtime/invocation/${encodeURIComponent(invocation.id)}/error`;
  const doc = errorDocument(error);
  const request = post(path, JSON.stringify(doc), doc.errorType);
  if (then) api.send(request, acknowledged(path, then));
  else api.send(request + NEXT, acknowledged(path), nextEvent);
}

function settle(invocation) {
  invocation.answered = true;
  exitListener = () => {};
  if (current === invocation) current = null;
}

function nextEvent(head, body) {
  if (head.status !== 200) {
    complain(`the Runtime API answered ${head.status} to GET next: ${body.toString()}`);
    process.exit(1);
  }
  invoke(head, body);
}

function invoke(head, body) {
  const invocation = { id: head.requestId, answered: false };
  const deadline = head.deadlineMs;
  if (head.traceId) env._X_AMZN_TRACE_ID = head.traceId;
  else if (env._X_AMZN_TRACE_ID !== undefined) delete env._X_AMZN_TRACE_ID; // reading is cheaper
  requestId = invocation.id;
  tenantId = head.tenantId;
  current = invocation;

  const complete = (result) => {
    if (invocation.answered) return console.error(ALREADY_DONE);
    const payload = serialize(result);
    settle(invocation);
    respond(invocation, payload);
  };
  const fail = (error) => {
    if (invocation.answered) return console.error(ALREADY_DONE);
    logError('Invoke Error', error);
    settle(invocation);
    reportError(invocation, error);
  };
  let waits = true;
  const callback = (error, result) => {
    if (invocation.answered) return console.error(ALREADY_DONE);
    exitListener = () => {};
    if (error !== undefined && error !== null) fail(error);
    else if (!waits) complete(result);
    else exitListener = () => setImmediate(() => complete(result));
  };
  const done = (error, result) => {
    if (error !== undefined && error !== null) fail(error);
    else complete(result);
  };
  // Only the first of callback/succeed/fail/done counts; one that threw did not count.
  let finished = false;
  const once =
    (fn) =>
    (...args) => {
      if (finished) return;
      fn(...args);
      finished = true;
    };
  const onceCallback = once(callback);
  const succeed = once((result) => done(null, result));
  const failed = once((error) =>
    error === undefined || error === null ? done('handled') : done(error, null),
  );

  exitListener = () => {
    settle(invocation);
    if (!handlerIsAsync) return respond(invocation, 'null');
    const error = new NodeJsExit();
    logError('Invoke Error', error);
    reportError(invocation, error);
  };
  try {
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waits;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waits = value;
      },
      succeed,
      fail: failed,
      done: once(done),
      ...STATIC_CONTEXT,
      clientContext: parseJson(head.clientContext, 'ClientContext'),
      identity: parseJson(head.cognitoIdentity, 'CognitoIdentity'),
      invokedFunctionArn: head.functionArn,
      awsRequestId: invocation.id,
      tenantId,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    const result = handler(JSON.parse(body.toString('utf8')), context, onceCallback);
    if (result && typeof result.then === 'function') result.then(succeed, failed).catch(failed);
  } catch (error) {
    onceCallback(error);
  }
}

/** An uncaught error: posted for whoever is to blame (init, or the invocation), then exit. */
function crash(error, code) {
  if (crashing) return;
  crashing = true;
  if (!initialised) {
    const doc = errorDocument(error);
    const path = '/2018-06-01/runtime/init/error';
    const request = post(path, JSON.stringify(doc), doc.errorType);
    api.send(request, acknowledged(path, () => process.exit(code)));
  } else if (current !== null) {
    const invocation = current;
    settle(invocation);
    reportError(invocation, error, () => process.exit(code));
  } else {
    process.exit(code);
  }
}

process.on('uncaughtException', (error) => {
  logError('Uncaught Exception', error);
  crash(error, 129);
});
process.on('unhandledRejection', (reason, promise) => {
  const error = new UnhandledPromiseRejection(reason, promise);
  logError('Unhandled Promise Rejection', error);
  crash(error, 128);
});
process.on('beforeExit', () => exitListener());

try {
  const taskRoot = env.LAMBDA_TASK_ROOT || process.cwd();
  handler = await loadHandler(taskRoot, env._HANDLER || 'index.handler');
  handlerIsAsync = isAsyncFunction(handler);
} catch (error) {
  logError('Uncaught Exception', error);
  crash(error, 129);
}
if (handler !== undefined && !crashing) {
  if (
    env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined &&
    handler.length === 3 &&
    !handlerIsAsync
  ) {
    console.warn(
      'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.',
    );
  }
  initialised = true;
  api.send(NEXT, nextEvent);
}
