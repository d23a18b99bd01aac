// One step of a workflow screen's work at a time: the screen is busy while it
// runs, a refusal is shown through setError, and onDone follows a success.
import { useState } from "preact/hooks";
import { ApiError } from "./api";

export function useRun(onDone: () => void, setError: (message: string | null) => void, before?: () => void) {
  const [busy, setBusy] = useState(false);
  const run = async (step: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    before?.();
    try {
      await step();
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, run };
}
