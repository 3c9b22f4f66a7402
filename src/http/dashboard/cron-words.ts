/**
 * @module dashboard/cron-words — common cron patterns in words ("0 8 * * 1-5" → "at 08:00 on
 * Monday to Friday"); anything it does not recognise is shown as the raw expression, never guessed.
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const NUMBER = /^\d+$/;

const pad = (n: string) => n.padStart(2, "0");
const ordinal = (n: number) =>
  `${n}${n % 10 === 1 && n !== 11 ? "st" : n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th"}`;

function listOf(field: string, names: string[], offset: number): string | null {
  const parts = field.split(",").map((part) => {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [names[Number(range[1]) - offset], names[Number(range[2]) - offset]];
      return from && to ? `${from} to ${to}` : null;
    }
    return NUMBER.test(part) ? (names[Number(part) - offset] ?? null) : null;
  });
  if (parts.some((p) => p === null)) return null;
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : (parts[0] as string);
}

function timeOf(minute: string, hour: string, second: string | null): string | null {
  if (second !== null && second !== "0") return null;
  if (!NUMBER.test(minute)) return null;
  if (NUMBER.test(hour)) return `at ${pad(hour)}:${pad(minute)}`;
  const hours = hour.split(",");
  if (hours.length > 1 && hours.every((h) => NUMBER.test(h)))
    return `at ${hours.map((h) => `${pad(h)}:${pad(minute)}`).join(", ")}`;
  const step = /^\*\/(\d+)$/.exec(hour);
  if (step)
    return minute === "0" ? `every ${step[1]} hours, on the hour` : `every ${step[1]} hours at minute ${minute}`;
  if (hour === "*") return minute === "0" ? "every hour, on the hour" : `every hour at minute ${minute}`;
  return null;
}

/** Words for a 5- or 6-field cron expression, or the expression itself when not a common pattern. */
export function cronToWords(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return expression;
  const second = fields.length === 6 ? (fields.shift() as string) : null;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (second === null || second === "0") {
    const everyMinutes = /^\*\/(\d+)$/.exec(minute);
    if (hour === "*" && dom === "*" && month === "*" && dow === "*") {
      if (minute === "*") return "every minute";
      if (everyMinutes) return `every ${everyMinutes[1]} minutes`;
    }
  }
  const time = timeOf(minute, hour, second);
  if (!time) return expression;
  const when: string[] = [time];
  if (dom !== "*" && dow !== "*") return expression;
  if (dow !== "*") {
    const days = listOf(dow, DAYS, 0);
    if (!days) return expression;
    when.push(`on ${days}`);
  } else if (dom !== "*") {
    if (!/^\d+(,\d+)*$/.test(dom)) return expression;
    when.push(
      `on the ${dom
        .split(",")
        .map((d) => ordinal(Number(d)))
        .join(" and ")}`,
    );
  } else if (!time.startsWith("every")) {
    when.push("every day");
  }
  if (month !== "*") {
    const months = listOf(month, MONTHS, 1);
    if (!months) return expression;
    when.push(`in ${months}`);
  }
  return when.join(" ");
}
