import { useEffect, useState } from "react";

/** The current time in ms, refreshed every `ms`, for text such as "running 2 min". */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
