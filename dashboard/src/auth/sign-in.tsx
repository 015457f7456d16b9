import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client.ts';

/**
 * Asks for a bearer token. After a refusal it says so plainly, with the service's reason, so
 * that a wrong or revoked token is never mistaken for an empty service.
 */
export function SignIn({
  refused,
  onToken,
}: {
  readonly refused: ApiError | undefined;
  readonly onToken: (token: string) => void;
}) {
  const [token, setToken] = useState('');
  return (
    <main class="sign-in">
      {refused === undefined ? (
        <h1>Sign in to taskflow</h1>
      ) : (
        <section class="refused" role="alert" aria-labelledby="refused-title">
          <h1 id="refused-title">This token was not accepted</h1>
          <p>{refused.message}</p>
          <p class="muted">
            The service answered {refused.status}
            {refused.problem?.requestId === undefined
              ? ''
              : ` (request ${refused.problem.requestId})`}
            . Enter another token below.
          </p>
        </section>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim() !== '') onToken(token.trim());
        }}
      >
        <label class="field">
          <span>Bearer token</span>
          <input
            type="password"
            name="token"
            autocomplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <p class="muted">
          An operator makes one with <code>taskflow tokens create --scope read</code> (or{' '}
          <code>operate</code> to start and steer runs). It is kept in this tab's session storage
          only.
        </p>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
