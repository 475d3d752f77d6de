// URL search-param helpers: table filters and sort live in the address bar so views are shareable.
import { useCallback } from "react";
import { useSearchParams } from "react-router";

export function useUrlState(): [URLSearchParams, (patch: Record<string, string | null>, replace?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const update = useCallback(
    (patch: Record<string, string | null>, replace = true) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(patch)) {
            if (v === null || v === "") next.delete(k);
            else next.set(k, v);
          }
          return next;
        },
        { replace },
      );
    },
    [setParams],
  );
  return [params, update];
}

export function pick<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}
