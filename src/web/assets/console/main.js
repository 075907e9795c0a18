// The clerks' console at `/`: sign-in, then the screens the signed-in role may use (and no
// others). Each screen is one module of this folder; all of them talk to /graphql only.
import { html, render, useState, useEffect } from '../vendor/htm-preact.module.js';
import { gql, session, saveSession, clearSession, whenSignedOut } from './api.js';
import { ROLE, ErrorBox } from './ui.js';
import { RosterScreen } from './roster.js';
import { DutyScreen } from './duty.js';
import { RegistryScreen } from './registry.js';
import { AssessmentsScreen } from './assessments.js';
import { MailboxScreen } from './mailbox.js';
import { OverviewScreen } from './overview.js';
import { AccountScreen } from './account.js';

const ALL = ['DISTRICT_ADMIN', 'STREET_STAFF', 'PLANNER', 'VIEWER'];
/// Every screen and the roles it is for; the others do not see it at all.
export const SCREENS = [
  { key: 'overview', label: '概览', roles: ALL, view: OverviewScreen },
  { key: 'registry', label: '街道与团队', roles: ALL, view: RegistryScreen },
  { key: 'roster', label: '花名册', roles: ['DISTRICT_ADMIN', 'STREET_STAFF'], view: RosterScreen },
  { key: 'duty', label: '工作台账', roles: ['DISTRICT_ADMIN', 'STREET_STAFF', 'PLANNER'], view: DutyScreen },
  { key: 'assessments', label: '聘期考核', roles: ALL, view: AssessmentsScreen },
  { key: 'mailbox', label: '信箱', roles: ['DISTRICT_ADMIN', 'STREET_STAFF', 'PLANNER'], view: MailboxScreen },
  { key: 'account', label: '修改密码', roles: ALL, view: AccountScreen, hidden: true },
];

const ME = `query Me { me { id username displayName role street { id name } planner { id name } } }`;
const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { token expiresAt user { id username displayName role street { id name } planner { id name } } }
}`;

function Login({ notice, onIn }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError(new Error('请输入用户名和密码。'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const d = await gql(LOGIN, { input: { username: username.trim(), password } }, { anonymous: true });
      saveSession({ token: d.login.token, expiresAt: d.login.expiresAt, user: d.login.user });
      onIn(d.login.user);
    } catch (err) {
      setError(err.code === 'UNAUTHENTICATED' ? new Error('用户名或密码不正确。') : err);
    } finally {
      setBusy(false);
    }
  };
  return html`<header class="bar"><h1>驻街规划师管理平台</h1><p>滨江区规划资源分局 · 街道办事处</p></header>
    <main>
      <section class="card login">
        <h2>登录</h2>
        ${notice && html`<p class="notice" role="status" data-testid="signin-notice">${notice}</p>`}
        <form onSubmit=${submit}>
          <label for="username">用户名</label>
          <input id="username" type="text" autocomplete="username" value=${username} onInput=${(e) => setUsername(e.target.value)} />
          <label for="password">密码</label>
          <input id="password" type="password" autocomplete="current-password" value=${password} onInput=${(e) => setPassword(e.target.value)} />
          <${ErrorBox} error=${error} />
          <div class="actions"><button type="submit" disabled=${busy}>登录</button></div>
        </form>
        <p class="hint">居民来信请访问 <a href="/mailbox">驻街规划师信箱</a>。</p>
      </section>
    </main>`;
}

function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [key, ...rest] = h.split('/');
  return { key, arg: rest.join('/') };
}

function Shell({ user, onOut }) {
  const screens = SCREENS.filter((s) => s.roles.includes(user.role));
  const [r, setR] = useState(route());
  useEffect(() => {
    const f = () => setR(route());
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  const current = screens.find((s) => s.key === r.key) || screens[0];
  const View = current.view;
  const who = user.displayName || user.username;
  const scope = user.street ? ` · ${user.street.name}` : '';
  return html`<header class="bar console">
      <h1>驻街规划师管理平台</h1>
      <div class="who"><span data-testid="who">${who}（${ROLE[user.role]}${scope}）</span>
        <a href="#/account">修改密码</a>
        <button class="link" data-testid="sign-out" onClick=${onOut}>退出</button></div>
    </header>
    <nav class="tabs" aria-label="功能">
      ${screens.filter((s) => !s.hidden).map(
        (s) => html`<a href=${'#/' + s.key} class=${s === current ? 'on' : ''} aria-current=${s === current ? 'page' : undefined}>${s.label}</a>`
      )}
    </nav>
    <main class="wide" data-screen=${current.key}><${View} user=${user} arg=${r.key === current.key ? r.arg : ''} /></main>`;
}

function App() {
  const [user, setUser] = useState(null);
  const [notice, setNotice] = useState('');
  const [checking, setChecking] = useState(!!session());
  useEffect(() => {
    whenSignedOut((message) => {
      setUser(null);
      setNotice(message);
      setChecking(false);
    });
    if (session()) {
      gql(ME)
        .then((d) => {
          saveSession({ ...session(), user: d.me });
          setUser(d.me);
        })
        .catch((e) => {
          if (e.code !== 'UNAUTHENTICATED') setNotice(e.message);
        })
        .finally(() => setChecking(false));
    }
  }, []);
  if (checking) return html`<main><p class="hint">正在验证登录…</p></main>`;
  if (!user) {
    return html`<${Login} notice=${notice} onIn=${(u) => { setNotice(''); setUser(u); }} />`;
  }
  return html`<${Shell} user=${user} onOut=${() => {
    clearSession();
    setUser(null);
    setNotice('您已退出登录。');
  }} />`;
}

render(html`<${App} />`, document.getElementById('app'));
