import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiError, DbCheck, DbRestore } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** `loopline db check`: the database's problems and its backups (works without an engine). */
export function useDbCheck() {
  return useQuery<DbCheck, ApiError>({ queryKey: queryKeys.dbCheck, queryFn: () => call("db_check") });
}

/** `loopline db restore`; the engine then starts on the restored database, so every screen reloads. */
export function useRestoreBackup(onRestored: (done: DbRestore) => void) {
  const client = useQueryClient();
  return useMutation<DbRestore, ApiError, void>({
    mutationFn: () => call("db_restore"),
    onSuccess: (done) => {
      onRestored(done);
      return client.invalidateQueries();
    },
  });
}
