// 修改密码: changePassword for the signed-in account. The server revokes the account's other
// tokens and returns; the session signs in again with the new password.
import { html, useState } from '../vendor/htm-preact.module.js';
import { gql, saveSession, session } from './api.js';
import { ErrorBox } from './ui.js';

const CHANGE = `mutation ChangePassword($input: ChangePasswordInput!) { changePassword(input: $input) { user { id username } } }`;
const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { token expiresAt } }`;

export function AccountScreen({ user }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setDone(false);
    if (!current || !next) return setError(new Error('请填写当前密码和新密码。'));
    if (next !== again) return setError(new Error('两次输入的新密码不一致。'));
    setBusy(true);
    setError(null);
    try {
      await gql(CHANGE, { input: { currentPassword: current, newPassword: next } });
      // Tokens issued before the change may no longer be valid: sign in again, quietly.
      const d = await gql(LOGIN, { input: { username: user.username, password: next } }, { anonymous: true }).catch(() => null);
      if (d) saveSession({ ...session(), token: d.login.token, expiresAt: d.login.expiresAt });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card narrow">
    <h2>修改密码</h2>
    <form onSubmit=${submit}>
      <label for="pw-current">当前密码</label>
      <input id="pw-current" type="password" autocomplete="current-password" value=${current} onInput=${(e) => setCurrent(e.target.value)} />
      <label for="pw-new">新密码</label>
      <input id="pw-new" type="password" autocomplete="new-password" value=${next} onInput=${(e) => setNext(e.target.value)} />
      <label for="pw-again">再次输入新密码</label>
      <input id="pw-again" type="password" autocomplete="new-password" value=${again} onInput=${(e) => setAgain(e.target.value)} />
      <${ErrorBox} error=${error} />
      ${done && html`<p class="notice" role="status">密码已修改，下次登录请使用新密码。</p>`}
      <div class="actions"><button type="submit" disabled=${busy}>保存新密码</button></div>
    </form>
  </section>`;
}
