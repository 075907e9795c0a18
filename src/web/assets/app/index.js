// The console will live at / (sign-in, rosters, assessments, mailbox, overview). Until it
// does, this page points to what is served today.
import { html, render } from '../vendor/htm-preact.module.js';

render(
  html`<header class="bar"><h1>驻街规划师管理平台</h1><p>滨江区规划资源分局</p></header>
    <main>
      <section class="card">
        <h2>入口</h2>
        <nav class="links">
          <a href="/mailbox">驻街规划师信箱（居民来信、查询办理进度）</a>
          <a href="/graphql">接口调试（GraphiQL）</a>
        </nav>
        <p class="hint">管理控制台（花名册、工作台账、聘期考核、信箱处理、概览）正在建设中。</p>
      </section>
    </main>`,
  document.getElementById('app')
);
