// The public GraphQL API, as the residents' pages use it: one POST to /graphql on this
// origin. A refusal comes back as an ApiError carrying the server's Chinese message and
// `extensions.code`; a network failure or an unreadable answer gets a Chinese sentence too.

export class ApiError extends Error {
  constructor(message, code, extensions) {
    super(message);
    this.code = code;
    this.extensions = extensions || {};
  }
}

export async function gql(query, variables) {
  let resp;
  try {
    resp = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
      },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
  } catch (e) {
    throw new ApiError('无法连接服务器，请检查网络后重试。', 'NETWORK');
  }
  let body;
  try {
    body = await resp.json();
  } catch (e) {
    throw new ApiError(`服务器暂时无法处理请求（HTTP ${resp.status}），请稍后重试。`, 'INTERNAL');
  }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    const ext = e.extensions || {};
    throw new ApiError(e.message || '请求未能完成，请稍后重试。', ext.code, ext);
  }
  if (!body.data) {
    throw new ApiError('服务器返回了空的答复，请稍后重试。', 'INTERNAL');
  }
  return body.data;
}

/// Characters as the server counts them (Unicode scalar values, not UTF-16 units).
export function charCount(text) {
  return Array.from(text).length;
}

/// A timestamp as Beijing time, e.g. 2026年12月2日 14:05.
export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const parts = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(d);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}年${p.month}月${p.day}日 ${p.hour}:${p.minute}`;
}

/// A date (YYYY-MM-DD) as 2026年12月2日.
export function formatDate(ymd) {
  if (!ymd) return '';
  const [y, m, d] = ymd.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}
