import { useNavigate } from '@tanstack/react-router';
import { useEffect, useState } from 'react';

/** The keyboard map shown by `?`; views add their own keys (n/p in the log) and list them here. */
const SHORTCUTS: ReadonlyArray<[string, string]> = [
  ['?', 'show or hide this help'],
  ['1 / 2 / 3', 'pushes / farm / answers'],
  ['/', 'focus the filter or the log search'],
  ['j / k', 'next / previous push'],
  ['n / p', 'next / previous error in a log'],
  ['l', 'open the log (on a job page)'],
  ['Esc', 'close this help, leave a field'],
];

/** Whether a key press was meant for a text field rather than for the page. */
export function typingIn(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

/** The page-wide keys and the `?` help overlay. */
export function Shortcuts() {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        if (typingIn(event.target)) (event.target as HTMLElement).blur();
        return;
      }
      if (typingIn(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === '?') setOpen((shown) => !shown);
      else if (event.key === '1') void navigate({ to: '/' });
      else if (event.key === '2') void navigate({ to: '/farm' });
      else if (event.key === '3') void navigate({ to: '/answers' });
      else if (event.key === '/') {
        const field = document.querySelector<HTMLInputElement>('[data-shortcut="search"]');
        if (field) {
          event.preventDefault();
          field.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);
  if (!open) return null;
  return (
    <div className="overlay">
      <div className="help" role="dialog" aria-label="Keyboard shortcuts">
        <h2>Keyboard shortcuts</h2>
        <dl>
          {SHORTCUTS.map(([keys, what]) => (
            <div key={keys}>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
    </div>
  );
}
