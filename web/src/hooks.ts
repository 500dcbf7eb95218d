/** Data fetching for components: the latest answer of a path, reloaded when the path changes. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api';

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (null: nothing) and keeps the last answer while a new one loads. Loading from the first
 * render with a new path: the effect that fetches runs after it is painted, and until then the last
 * answer (of another period, say) showed as the new path's, not busy.
 */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; of?: string }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    api<T>(path).then(
      (data) => mine === seq.current && setState({ data, loading: false, of: path }),
      (error: ApiError) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false, of: path })),
    );
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const { of, ...rest } = state;
  return { ...rest, loading: state.loading || (path !== null && of !== path), reload };
}

/** Calls fn every `ms` while mounted (and `active`). */
export function useInterval(fn: () => void, ms: number, active = true): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

/** A change made from a form or button: whether it runs, and its error (an ApiError) if it failed. */
export function useAction(): { busy: boolean; error: ApiError | null; run: (fn: () => Promise<unknown>) => Promise<boolean> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(err as ApiError);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}
