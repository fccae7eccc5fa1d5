// Light and dark themes: the system's choice (prefers-color-scheme) until the user toggles; the
// choice is kept in localStorage. The theme is an attribute on <html>; CSS variables do the rest, and
// the diagram reads the same variables (theme.ts).

import { useEffect, useState } from 'react';
import { actions, useApp } from '../store/index.ts';

const KEY = 'irqflow.theme';

function systemTheme(): 'light' | 'dark' {
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function savedTheme(): 'light' | 'dark' | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

export function ThemeToggle() {
  const chosen = useApp((s) => s.presentation.theme);
  const [system, setSystem] = useState(systemTheme);
  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: light)');
    const on = () => setSystem(systemTheme());
    mq?.addEventListener('change', on);
    const saved = savedTheme();
    if (saved) actions.setTheme(saved);
    return () => mq?.removeEventListener('change', on);
  }, []);
  const theme = chosen ?? system;
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    if (chosen) {
      try {
        localStorage.setItem(KEY, chosen);
      } catch {
        // private mode: the choice lasts for this page only
      }
    }
  }, [theme, chosen]);
  return (
    <button
      className="icon"
      data-testid="btn-theme"
      data-theme={theme}
      onClick={() => actions.setTheme(theme === 'light' ? 'dark' : 'light')}
      title={`Switch to the ${theme === 'light' ? 'dark' : 'light'} theme (t)`}
      aria-label="Toggle light and dark theme"
    >
      {theme === 'light' ? '☾' : '☀'}
    </button>
  );
}
