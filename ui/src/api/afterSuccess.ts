/**
 * What a screen does once a mutation has succeeded (a toast, clearing a form), beside the
 * hook's own cache updates. It is passed to the hook rather than to `mutate`, so it still
 * runs when the success removes the screen itself (a removed rule's card, say).
 */
export type AfterSuccess<T, V> = { onSuccess?: (result: T, variables: V) => void };
