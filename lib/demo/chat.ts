/** Demo section for exercise 4b: a TCP chat server and two scripted clients. */
import { connectTcp } from "../net/tcp.ts";
import { runChatClient, TcpLink } from "../chat/client.ts";
import { lineKeyboard, QueueInput } from "../chat/keyboard.ts";
import type { DemoContext, DemoSection } from "./context.ts";
import { startInDemo } from "./services.ts";

/** Exercise 4b: alice and bob chat, a taken name is refused, bob signs out. */
export const chatSection: DemoSection = {
  title: "Exercise 4b: chat (chat-server / chat-client)",
  async run(ctx) {
    const server = ctx.writer("chat-server");
    const { port } = (await startInDemo(ctx, "chat-server", server)).addr;
    const { alice, bob } = await aliceThenBob(ctx, [port, port]);
    await talkThenWho(ctx, { alice, bob }, "hello bob", [
      "alice's line reaches both of them, alice too",
      "/who lists the members in sign-in order",
    ]);
    await secondAliceRefused(ctx, port, "a second alice is refused: names are unique");
    await ctx.step("bob signs out; alice is told and the server logs it", async () => {
      bob.input.end();
      await bob.done;
      await alice.out.waitFor("*** bob left");
      await server.waitFor(/bob left/);
    });
    alice.input.end();
    await alice.done;
  },
};

/** A scripted chat-client `name` on 127.0.0.1:`port`: its transcript, its keyboard, its end. */
export function demoChatClient(ctx: DemoContext, port: number, name: string, role = name) {
  const out = ctx.writer(`chat-client ${role}`);
  const input = new QueueInput();
  const done = connectTcp({ hostname: "127.0.0.1", port }).then((conn) =>
    runChatClient(new TcpLink(conn, `127.0.0.1:${port}`), name, {
      keyboard: lineKeyboard(input, out.write),
      signal: ctx.signal,
    })
  );
  ctx.track(done);
  return { out, input, done };
}

/** alice signs in (on `ports[0]`), then bob (on `ports[1]`), and alice is told; `where` names the servers. */
export async function aliceThenBob(
  ctx: DemoContext,
  ports: [number, number],
  where: [string, string] = ["", ""],
) {
  const alice = demoChatClient(ctx, ports[0], "alice");
  await ctx.step(`alice signs in${where[0]}`, async () => {
    await alice.out.waitFor(/signed in as alice/);
  });
  const bob = demoChatClient(ctx, ports[1], "bob");
  await ctx.step(`bob signs in${where[1]} and alice is told`, async () => {
    await bob.out.waitFor(/signed in as bob/);
    await alice.out.waitFor("*** bob joined");
  });
  return { alice, bob };
}

/** A step: a second alice on `port` is refused with the name-taken reason. */
export function secondAliceRefused(ctx: DemoContext, port: number, label: string): Promise<void> {
  return ctx.step(label, async () => {
    const second = demoChatClient(ctx, port, "alice", "alice#2");
    const refusal = await second.done.then(() => "", (err) => (err as Error).message);
    second.out.log(refusal);
    ctx.expectEqual(refusal, "cannot sign in as 'alice': name 'alice' is already taken", "refusal");
  });
}

type DemoChatClient = ReturnType<typeof demoChatClient>;

/** Steps: alice says `text` and both hear it (labels[0]); bob's /who lists alice and bob (labels[1]). */
export async function talkThenWho(
  ctx: DemoContext,
  { alice, bob }: { alice: DemoChatClient; bob: DemoChatClient },
  text: string,
  labels: [string, string],
): Promise<void> {
  await ctx.step(labels[0], async () => {
    alice.input.push(text);
    await alice.out.waitFor(`Msg alice says: ${text}`);
    await bob.out.waitFor(`Msg alice says: ${text}`);
  });
  await ctx.step(labels[1], async () => {
    bob.input.push("/who");
    await bob.out.waitFor("Users: alice bob");
  });
}
