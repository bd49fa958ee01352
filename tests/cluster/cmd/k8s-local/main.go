// Command k8s-local is one multi-call binary holding etcd, kube-apiserver and
// kube-controller-manager, built from Go modules so tests need neither Docker nor
// downloads of prebuilt binaries. The component is the first argument:
//
//	k8s-local etcd [flags]
//	k8s-local kube-apiserver [flags]
//	k8s-local kube-controller-manager [flags]
//
// Each component runs in its own process: their global flag state collides in one.
package main

import (
	"fmt"
	"os"

	_ "time/tzdata" // CronJob time zones must not depend on the host's zoneinfo.

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8s-local etcd|kube-apiserver|kube-controller-manager [flags]")
		os.Exit(2)
	}
	component := os.Args[1]
	os.Args = append([]string{component}, os.Args[2:]...)
	switch component {
	case "etcd":
		etcdmain.Main(os.Args)
	case "kube-apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	default:
		fmt.Fprintf(os.Stderr, "unknown component %q\n", component)
		os.Exit(2)
	}
}
