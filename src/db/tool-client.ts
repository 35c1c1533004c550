import type { ClientFactory } from "../config/schema.js";
import { bindCopy, copyRefusal } from "./copy-binding.js";
import { CopyChannel } from "./copy-channel.js";
import type { PrismaClientLike } from "./prisma-like.js";

/**
 * The config's Prisma client, made by its factory over the tool's own pool
 * (`{ url, adapter }`), and whether its transactions can load by COPY.
 */
export class ToolClient {
  /** Set by {@link enableCopy}: the client's queries run on the tool's pool. */
  private copyOn = false;

  private constructor(
    public client: PrismaClientLike,
    private channel: CopyChannel | null,
  ) {}

  /** Calls the factory with the URL and a `PrismaPg` over a fresh pool; no query runs yet. */
  static async create(factory: ClientFactory, url: string): Promise<ToolClient> {
    const channel = new CopyChannel(url);
    try {
      return new ToolClient(await factory({ url, adapter: channel.adapter }), channel);
    } catch (e) {
      await channel.end();
      throw e;
    }
  }

  /** Whether COPY is on (checked by {@link enableCopy}). */
  get copy(): boolean {
    return this.copyOn;
  }

  /**
   * Checks that the client's queries run on the tool's pool. When they do, its transactions
   * are bound to the pool (COPY on) and null is returned; when not (a factory that built its
   * own adapter), the pool is closed and the reason is returned: the run loads by INSERT … SELECT.
   */
  async enableCopy(): Promise<string | null> {
    const channel = this.channel;
    if (!channel) return "COPY is off for this client";
    const refused = await copyRefusal(this.client, channel);
    if (refused) {
      this.channel = null;
      await channel.end();
      return refused;
    }
    this.client = bindCopy(this.client, channel);
    this.copyOn = true;
    return null;
  }

  async close(): Promise<void> {
    await this.client.$disconnect().catch(() => undefined);
    await this.channel?.end();
    this.channel = null;
    this.copyOn = false;
  }
}
