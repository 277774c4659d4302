import { ApiRequestError } from '@switchyard/protocol/browser';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from './api.ts';

/** Signs the browser in with an API token: the coordinator answers with an HttpOnly session cookie. */
export function SignInForm({ onDone }: { onDone?: () => void }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api().signIn(token.trim());
      setToken('');
      setProblem(null);
      await queryClient.resetQueries();
      onDone?.();
    } catch (error) {
      setProblem(error instanceof ApiRequestError ? error.message : String(error));
    }
  };
  return (
    <form className="sign-in" onSubmit={submit}>
      <label>
        API token
        <input
          type="password"
          name="token"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
      </label>
      <button type="submit">Sign in</button>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      <p className="hint">The token is sent once; the browser keeps only a session cookie, which sign-out ends.</p>
    </form>
  );
}
