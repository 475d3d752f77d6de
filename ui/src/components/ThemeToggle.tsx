// Light / dark / system theme switch; the choice is kept in localStorage and applied as data-theme on <html>.
import { useEffect, useState } from "react";

type Theme = "system" | "light" | "dark";
const KEY = "muster.theme";
const NEXT: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };
const LABEL: Record<Theme, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
const ICON: Record<Theme, string> = { system: "◐", light: "☀", dark: "☾" };

function initial(): Theme {
  try {
    const v = localStorage.getItem(KEY);
    if (v === "light" || v === "dark") return v;
  } catch {
    // no storage
  }
  return "system";
}

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(initial);
  useEffect(() => {
    if (theme === "system") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", theme);
    try {
      if (theme === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, theme);
    } catch {
      // no storage
    }
  }, [theme]);
  return (
    <button type="button" className="btn btn-ghost" onClick={() => setTheme(NEXT[theme])} aria-label={LABEL[theme]} title={LABEL[theme]} data-testid="theme-toggle">
      <span aria-hidden="true">{ICON[theme]}</span>
    </button>
  );
}
