// Search input that edits locally and commits to the URL after a short pause (or on Enter).
import { useEffect, useState } from "react";

export function SearchBox({ value, onCommit, placeholder, label, testId = "search" }: { value: string; onCommit: (v: string) => void; placeholder: string; label: string; testId?: string }) {
  const [text, setText] = useState(value);
  const [synced, setSynced] = useState(value);
  // Back/forward changed the URL: show it.
  if (value !== synced) {
    setSynced(value);
    setText(value);
  }
  useEffect(() => {
    if (text === value) return;
    const t = window.setTimeout(() => onCommit(text), 250);
    return () => window.clearTimeout(t);
  }, [text, value, onCommit]);
  return (
    <input
      type="search"
      className="search"
      value={text}
      placeholder={placeholder}
      aria-label={label}
      data-testid={testId}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") onCommit(text);
        if (e.key === "Escape" && text) {
          e.preventDefault();
          e.stopPropagation();
          setText("");
          onCommit("");
        }
      }}
    />
  );
}
