// The console's client of the public GraphQL API: the session (token in localStorage), JSON
// requests with `Authorization: Bearer`, uploads per the GraphQL multipart request spec over
// XMLHttpRequest (for its upload progress), downloads through `createDownloadLink`, and the
// `letterReceived` subscription over /graphql/ws (graphql-transport-ws, the vendored
// graphql-ws client). No endpoint here is private: this is the reference client.

const KEY = 'streetplanner.session';

export class ApiError extends Error {
  constructor(message, code, extensions) {
    super(message);
    this.code = code;
    this.extensions = extensions || {};
  }
}

// Whoever shows the sign-in page when the session ends (set by main.js).
let onSignedOut = () => {};
export function whenSignedOut(f) {
  onSignedOut = f;
}

export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && s.token ? s : null;
  } catch (e) {
    return null;
  }
}

export function saveSession(s) {
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession() {
  localStorage.removeItem(KEY);
  closeSocket();
}

const EXPIRED = '登录已失效（已过期、密码已修改或账号已停用），请重新登录。';

// The session ended on the server's word: back to sign-in with a sentence saying why.
function ended(message) {
  clearSession();
  onSignedOut(message || EXPIRED);
}

function checkExpiry() {
  const s = session();
  if (s && s.expiresAt && Date.parse(s.expiresAt) <= Date.now()) {
    ended('登录已过期，请重新登录。');
    throw new ApiError('登录已过期，请重新登录。', 'UNAUTHENTICATED');
  }
  return s;
}

function fromBody(status, body) {
  if (!body || typeof body !== 'object') {
    return new ApiError(`服务器暂时无法处理请求（HTTP ${status}），请稍后重试。`, 'INTERNAL');
  }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    const ext = e.extensions || {};
    return new ApiError(e.message || '请求未能完成，请稍后重试。', ext.code, ext);
  }
  if (!body.data) return new ApiError('服务器返回了空的答复，请稍后重试。', 'INTERNAL');
  return null;
}

function handle(status, body, signedIn) {
  const err = fromBody(status, body);
  if (err) {
    if (err.code === 'UNAUTHENTICATED' && signedIn) ended();
    throw err;
  }
  return body.data;
}

/// A query or mutation as the signed-in user (or anonymously, for `login`).
export async function gql(query, variables, opts) {
  const s = opts && opts.anonymous ? null : checkExpiry();
  const headers = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json;q=0.9',
  };
  if (s) headers.authorization = `Bearer ${s.token}`;
  let resp;
  try {
    resp = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: variables || {} }),
    });
  } catch (e) {
    throw new ApiError('无法连接服务器，请检查网络后重试。', 'NETWORK');
  }
  let body = null;
  try {
    body = await resp.json();
  } catch (e) {
    body = null;
  }
  return handle(resp.status, body, !!s);
}

/// A mutation with one file (`variables[fileVar]`), per the GraphQL multipart request spec,
/// reporting upload progress as a fraction (0–1) to `onProgress`.
export function upload(query, variables, fileVar, file, onProgress) {
  const s = checkExpiry();
  return new Promise((resolve, reject) => {
    const vars = JSON.parse(JSON.stringify(variables || {}));
    const path = fileVar.split('.');
    let target = vars;
    for (const p of path.slice(0, -1)) target = target[p];
    target[path[path.length - 1]] = null;
    const form = new FormData();
    form.append('operations', JSON.stringify({ query, variables: vars }));
    form.append('map', JSON.stringify({ 0: [`variables.${fileVar}`] }));
    form.append('0', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader('accept', 'application/graphql-response+json, application/json;q=0.9');
    if (s) xhr.setRequestHeader('authorization', `Bearer ${s.token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError('上传失败：无法连接服务器，请检查网络后重试。', 'NETWORK'));
    xhr.onload = () => {
      if (onProgress) onProgress(1);
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      if (xhr.status === 413 && !body) {
        reject(new ApiError('文件过大，服务器拒绝接收。请拆分后分别上传。', 'PAYLOAD_TOO_LARGE'));
        return;
      }
      try {
        resolve(handle(xhr.status, body, !!s));
      } catch (e) {
        reject(e);
      }
    };
    xhr.send(form);
  });
}

/// Downloads an export (`/exports/…`) through a one-time link: the browser saves the file.
export async function download(path) {
  const d = await gql('mutation DownloadLink($p: String!) { createDownloadLink(path: $p) }', { p: path });
  const a = document.createElement('a');
  a.href = d.createDownloadLink;
  a.download = '';
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// One WebSocket for the session's subscriptions, opened on first use.
let socket = null;
function closeSocket() {
  if (socket) {
    const s = socket;
    socket = null;
    // dispose() may return a promise that rejects with the close event: nothing to report.
    Promise.resolve()
      .then(() => s.dispose())
      .catch(() => {});
  }
}

// The server's close codes that end the session (graphql-transport-ws 4401 Unauthorized;
// 4403: the token expired or the account changed), not worth a reconnect.
const ENDS_SESSION = (code) => code === 4401 || code === 4403;

/// Subscribes over /graphql/ws; returns the function that ends the subscription.
/// `connected(bool)` hears when the socket is acknowledged by the server and when it closes.
export function subscribe(query, variables, { next, error, connected }) {
  const s = session();
  if (!s || !window.graphqlWs) return () => {};
  if (!socket) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = window.graphqlWs.createClient({
      url: `${scheme}://${location.host}/graphql/ws`,
      connectionParams: () => ({ Authorization: `Bearer ${(session() || {}).token || ''}` }),
      lazy: true,
      retryAttempts: 5,
      shouldRetry: (e) => !(e && ENDS_SESSION(e.code)),
    });
    const mine = socket;
    mine.on('closed', (e) => {
      if (e && ENDS_SESSION(e.code) && socket === mine) ended();
    });
  }
  const unlisten = connected
    ? [socket.on('connected', () => connected(true)), socket.on('closed', () => connected(false))]
    : [];
  const stop = socket.subscribe(
    { query, variables },
    {
      next: (msg) => {
        if (msg.errors && msg.errors.length) {
          const e = msg.errors[0];
          const code = (e.extensions || {}).code;
          if (code === 'UNAUTHENTICATED') ended();
          if (error) error(new ApiError(e.message, code, e.extensions));
        } else if (msg.data) {
          next(msg.data);
        }
      },
      error: (e) => {
        if (error) error(new ApiError('实时连接中断，新来信将在刷新后显示。', 'NETWORK'));
      },
      complete: () => {},
    }
  );
  return () => {
    unlisten.forEach((f) => f());
    stop();
  };
}
