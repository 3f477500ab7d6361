import { FormError } from './shared';

/** The form posts JSON to /v1/auth/sign-in through admin.js; the session cookie comes back on that response. */
export function SignInPage({ next, signedOut }: { next: string; signedOut: boolean }) {
  return (
    <div class="card sign-in-card">
      <h1>Sign in</h1>
      <p class="muted">Use your P11 staff account.</p>
      {signedOut ? <p class="notice-inline">You have been signed out.</p> : null}
      <noscript>
        <p class="form-error">The console needs JavaScript to sign in.</p>
      </noscript>
      <form
        class="form"
        id="sign-in-form"
        data-api-form=""
        data-method="POST"
        data-url="/v1/auth/sign-in"
        data-then={`redirect:${next}`}
      >
        <label class="field">
          <span>Email</span>
          <input type="email" name="email" autocomplete="username" required autofocus />
        </label>
        <label class="field">
          <span>Password</span>
          <input type="password" name="password" autocomplete="current-password" required />
        </label>
        <FormError />
        <button type="submit" class="btn btn-primary btn-block">
          Sign in
        </button>
      </form>
    </div>
  );
}
