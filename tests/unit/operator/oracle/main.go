// Command robfig-oracle answers schedule questions with the code the Kubernetes
// cronjob controller runs (robfig/cron v3.0.1, as vendored by k8s.io/kubernetes),
// so the Python port in operator/scheduledjob_operator/cron.py is checked against
// the real thing rather than against our reading of it.
//
// Input, one case per line: schedule TAB timeZone TAB after TAB count, where after
// is RFC 3339 with an offset, or a wall time "2006-01-02T15:04:05" read in timeZone.
// Output, one line per case: the next count runs, space-separated, RFC 3339 with the
// zone's numeric offset, each computed from the previous one (as the controller
// chains them); "never" if robfig finds no run within five years; or
// "REJECT: <reason>" if the API server would refuse the schedule.
//
//	cut -f1-4 ../data/robfig-next.tsv | go run . | diff - <(cut -f5 ../data/robfig-next.tsv)
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

const layout = "2006-01-02T15:04:05-07:00"

func answer(line string) string {
	parts := strings.Split(line, "\t")
	if len(parts) < 4 {
		return "REJECT: malformed input line"
	}
	spec, zone, after := parts[0], parts[1], parts[2]
	count, err := strconv.Atoi(parts[3])
	if err != nil {
		return "REJECT: bad count"
	}
	// The API server's checks (pkg/apis/batch/validation validateScheduleFormat).
	if _, err := cron.ParseStandard(spec); err != nil {
		return "REJECT: " + err.Error()
	}
	if strings.Contains(spec, "TZ") {
		return "REJECT: TZ in schedule"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "REJECT: " + err.Error()
	}
	// The controller's formatSchedule: the zone travels as a TZ= prefix.
	sched, err := cron.ParseStandard("TZ=" + zone + " " + spec)
	if err != nil {
		return "REJECT: " + err.Error()
	}
	t, err := time.Parse(time.RFC3339, after)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04:05", after, loc)
		if err != nil {
			return "REJECT: bad after time"
		}
	}
	runs := []string{}
	for i := 0; i < count; i++ {
		t = sched.Next(t)
		if t.IsZero() {
			runs = append(runs, "never")
			break
		}
		runs = append(runs, t.In(loc).Format(layout))
	}
	return strings.Join(runs, " ")
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		if strings.HasPrefix(in.Text(), "#") {
			continue
		}
		fmt.Fprintln(out, answer(in.Text()))
	}
}
