// Test code reads JSON bodies loosely: the assertions that follow check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseJson = any;

export async function readJson(response: Response | Promise<Response>): Promise<LooseJson> {
  return (await response).json();
}
