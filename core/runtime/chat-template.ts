// A chat template: the Jinja program in tokenizer_config.json that turns a list of messages into the
// exact prompt text the model was trained on. Parsed once (syntax errors surface at load, naming the
// package), rendered per request with @huggingface/jinja.

import { Template } from "@huggingface/jinja";

export interface ChatMessage {
  role: "system" | "user" | "assistant" | (string & {});
  content: string;
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    source: string,
    private readonly where: string,
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new Error(`${where}: cannot parse the template: ${(e as Error).message}`);
    }
  }

  render(
    messages: ChatMessage[],
    opts: { addGenerationPrompt: boolean; bosToken: string; eosToken: string; extra?: Record<string, unknown> },
  ): string {
    if (!Array.isArray(messages)) throw new Error(`chat template: messages must be an array, got ${typeof messages}`);
    for (const [i, m] of messages.entries()) {
      if (!m || typeof m.role !== "string" || typeof m.content !== "string") {
        throw new Error(`chat template: messages[${i}] must be {"role": string, "content": string}`);
      }
    }
    try {
      return this.template.render({
        ...opts.extra,
        messages,
        add_generation_prompt: opts.addGenerationPrompt,
        bos_token: opts.bosToken,
        eos_token: opts.eosToken,
      });
    } catch (e) {
      // Templates call raise_exception(...) for inputs they reject (e.g. roles out of order).
      throw new Error(`${this.where}: rendering failed: ${(e as Error).message}`);
    }
  }
}
