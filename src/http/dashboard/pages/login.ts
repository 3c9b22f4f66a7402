/** @module dashboard/pages/login — the sign-in form: the operator token, never echoed back. */
import { html, type SafeHtml } from "../html.ts";

export function loginPage(next: string, error: string | null): SafeHtml {
  return html`<section class="login card">
    <h1>Sign in</h1>
    <p class="muted">
      Paste the operator token: <code>SUNDIAL_API_TOKEN</code>, or the contents of <code>data/api-token</code> when that
      variable is unset.
    </p>
    ${error ? html`<p class="flash error" role="alert">${error}</p>` : ""}
    <form method="post" action="/login">
      <input type="hidden" name="next" value="${next}" />
      <label for="token">Operator token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      <button class="btn primary">Sign in</button>
    </form>
  </section>`;
}
