import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ApiError, ReceiverStatus } from "../bindings.gen";
import { call } from "./ipc";
import { queryKeys } from "./queryKeys";

/** Moves the receiver to another address; the new status arrives through the event too. */
export function useMoveReceiver() {
  const client = useQueryClient();
  return useMutation<ReceiverStatus, ApiError, string>({
    mutationFn: (listen) => call("receiver_start", { listen }),
    onSuccess: (status) => {
      client.setQueryData(queryKeys.receiver, status);
      void client.invalidateQueries({ queryKey: queryKeys.appInfo });
    },
  });
}
