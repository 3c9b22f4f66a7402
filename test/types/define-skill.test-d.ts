/** What `defineSkill` infers for a skill author, checked by the type checker (vitest `expectTypeOf`). */
import { describe, expectTypeOf, it } from "vitest";
import {
  defineSkill,
  fillTemplate,
  imageType,
  skip,
  slugify,
  z,
  type GeneratedImage,
  type ImageType,
  type RunResult,
  type SkillContext,
  type SkillDefinition,
  type SkipResult,
  type SundialErrorCode,
  errorCode,
} from "../../src/index.ts";

const params = z.object({
  who: z.string().default("world"),
  times: z.number().int().optional(),
  mode: z.enum(["short", "long"]).default("short"),
});

describe("defineSkill", () => {
  it("gives ctx.params the schema's output type, defaults applied", () => {
    defineSkill({
      name: "hello",
      description: "Says hello",
      params,
      env: (p) => {
        expectTypeOf(p).toEqualTypeOf<{ who: string; times?: number | undefined; mode: "short" | "long" }>();
        return [];
      },
      run(ctx) {
        expectTypeOf(ctx).toEqualTypeOf<
          SkillContext<{ who: string; times?: number | undefined; mode: "short" | "long" }>
        >();
        expectTypeOf(ctx.params.who).toEqualTypeOf<string>();
        expectTypeOf(ctx.params.times).toEqualTypeOf<number | undefined>();
        expectTypeOf(ctx.params.mode).toEqualTypeOf<"short" | "long">();
        return skip("nothing to do");
      },
    });
  });

  it("returns the definition typed by its schema", () => {
    const skill = defineSkill({ name: "n", description: "d", params, run: () => undefined });
    expectTypeOf(skill).toEqualTypeOf<SkillDefinition<typeof params>>();
    expectTypeOf(skill.run).returns.toEqualTypeOf<Promise<RunResult> | RunResult>();
  });

  it("refuses a run that returns something that is not an output, a skip or nothing", () => {
    defineSkill({
      name: "n",
      description: "d",
      params,
      // @ts-expect-error a number is not a RunResult
      run: () => 42,
    });
    // @ts-expect-error params must be a zod schema
    defineSkill({ name: "n", description: "d", params: { who: "x" }, run: () => undefined });
  });

  it("types the helpers skills import", () => {
    expectTypeOf(skip).returns.toEqualTypeOf<SkipResult>();
    expectTypeOf(slugify).parameter(1).toEqualTypeOf<{ maxLength?: number; fallback?: string } | undefined>();
    expectTypeOf(imageType).returns.toEqualTypeOf<ImageType | null>();
    expectTypeOf<GeneratedImage["extension"]>().toEqualTypeOf<"png" | "jpg" | "gif" | "webp">();
    expectTypeOf(fillTemplate).returns.toEqualTypeOf<string>();
    expectTypeOf(errorCode).returns.toEqualTypeOf<SundialErrorCode | undefined>();
  });
});
