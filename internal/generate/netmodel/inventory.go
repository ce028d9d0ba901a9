package netmodel

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The types below follow the JSON that `aws ec2 describe-network-interfaces`
// prints, so that enrichment code can read real inventories and this one alike.

// Inventory is the document root.
type Inventory struct {
	NetworkInterfaces []NetworkInterface `json:"NetworkInterfaces"`
}

// NetworkInterface is one interface of the inventory.
type NetworkInterface struct {
	Association        *Association       `json:"Association,omitempty"`
	Attachment         *Attachment        `json:"Attachment,omitempty"`
	AvailabilityZone   string             `json:"AvailabilityZone"`
	AvailabilityZoneID string             `json:"AvailabilityZoneId"`
	Description        string             `json:"Description"`
	Groups             []Group            `json:"Groups"`
	InterfaceType      string             `json:"InterfaceType"`
	Ipv6Addresses      []struct{}         `json:"Ipv6Addresses"`
	MacAddress         string             `json:"MacAddress"`
	NetworkInterfaceID string             `json:"NetworkInterfaceId"`
	OwnerID            string             `json:"OwnerId"`
	PrivateDNSName     string             `json:"PrivateDnsName"`
	PrivateIPAddress   string             `json:"PrivateIpAddress"`
	PrivateIPAddresses []PrivateIPAddress `json:"PrivateIpAddresses"`
	RequesterID        string             `json:"RequesterId,omitempty"`
	RequesterManaged   bool               `json:"RequesterManaged"`
	SourceDestCheck    bool               `json:"SourceDestCheck"`
	Status             string             `json:"Status"`
	SubnetID           string             `json:"SubnetId"`
	TagSet             []Tag              `json:"TagSet"`
	VpcID              string             `json:"VpcId"`
}

// Association is the public address of an interface.
type Association struct {
	IPOwnerID     string `json:"IpOwnerId"`
	PublicDNSName string `json:"PublicDnsName"`
	PublicIP      string `json:"PublicIp"`
}

// Attachment says what the interface is attached to.
type Attachment struct {
	AttachmentID        string `json:"AttachmentId"`
	DeleteOnTermination bool   `json:"DeleteOnTermination"`
	DeviceIndex         int    `json:"DeviceIndex"`
	NetworkCardIndex    int    `json:"NetworkCardIndex"`
	InstanceID          string `json:"InstanceId,omitempty"`
	InstanceOwnerID     string `json:"InstanceOwnerId"`
	Status              string `json:"Status"`
}

// Group is a security group reference.
type Group struct {
	GroupName string `json:"GroupName"`
	GroupID   string `json:"GroupId"`
}

// PrivateIPAddress is one private address of an interface.
type PrivateIPAddress struct {
	Association      *Association `json:"Association,omitempty"`
	Primary          bool         `json:"Primary"`
	PrivateDNSName   string       `json:"PrivateDnsName"`
	PrivateIPAddress string       `json:"PrivateIpAddress"`
}

// Tag is one EC2 tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Inventory returns the network's interfaces in the describe-network-interfaces shape.
func (n *Network) Inventory() Inventory {
	inv := Inventory{NetworkInterfaces: make([]NetworkInterface, 0, len(n.ENIs))}
	for _, e := range n.ENIs {
		ip := Addr(e.IP).String()
		dns := "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + internalDomain(e.VPC.Region)
		ni := NetworkInterface{
			AvailabilityZone:   e.Subnet.AZ,
			AvailabilityZoneID: e.Subnet.AZID,
			Description:        e.Description,
			Groups:             []Group{},
			InterfaceType:      e.APIType,
			Ipv6Addresses:      []struct{}{},
			MacAddress:         e.MAC,
			NetworkInterfaceID: e.ID,
			OwnerID:            e.Account(),
			PrivateDNSName:     dns,
			PrivateIPAddress:   ip,
			RequesterManaged:   e.Role.Managed() || e.ECSTaskID != "",
			SourceDestCheck:    e.Role != RoleNAT,
			Status:             "in-use",
			SubnetID:           e.Subnet.ID,
			TagSet:             []Tag{},
			VpcID:              e.VPC.ID,
		}
		var assoc *Association
		if e.PublicIP != 0 {
			pub := Addr(e.PublicIP).String()
			assoc = &Association{IPOwnerID: "amazon", PublicIP: pub,
				PublicDNSName: "ec2-" + strings.ReplaceAll(pub, ".", "-") + "." + publicDomain(e.VPC.Region)}
			ni.Association = assoc
		}
		ni.PrivateIPAddresses = []PrivateIPAddress{{Association: assoc, Primary: true, PrivateDNSName: dns, PrivateIPAddress: ip}}
		if e.SecurityGrp != "" {
			ni.Groups = append(ni.Groups, Group{GroupName: e.SecurityGrp, GroupID: "sg-" + e.ID[4:]})
		}
		att := &Attachment{AttachmentID: "eni-attach-" + e.ID[4:], Status: "attached", InstanceOwnerID: "amazon-aws"}
		switch {
		case e.InstanceID != "":
			att.InstanceID, att.InstanceOwnerID, att.DeleteOnTermination = e.InstanceID, e.Account(), true
		case e.ECSTaskID != "":
			att.InstanceOwnerID, att.DeviceIndex, att.DeleteOnTermination = "amazon-aws", 1, false
			ni.RequesterID = "578734482556"
		default:
			att.DeviceIndex = 1
			ni.RequesterID = "amazon-" + e.Role.String()
		}
		ni.Attachment = att
		if e.Name != "" {
			ni.TagSet = append(ni.TagSet, Tag{"Name", e.Name})
		}
		if e.Service != "" {
			ni.TagSet = append(ni.TagSet, Tag{"service", e.Service})
		}
		if e.ASG != "" {
			ni.TagSet = append(ni.TagSet, Tag{"aws:autoscaling:groupName", e.ASG})
		}
		if e.ECSCluster != "" {
			ni.TagSet = append(ni.TagSet, Tag{"aws:ecs:clusterName", e.ECSCluster}, Tag{"aws:ecs:serviceName", e.ECSService})
		}
		ni.TagSet = append(ni.TagSet, Tag{"role", e.Role.String()})
		inv.NetworkInterfaces = append(inv.NetworkInterfaces, ni)
	}
	return inv
}

func internalDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

func publicDomain(region string) string {
	if region == "us-east-1" {
		return "compute-1.amazonaws.com"
	}
	return region + ".compute.amazonaws.com"
}

// WriteInventory writes the inventory as indented JSON.
func (n *Network) WriteInventory(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	if err := enc.Encode(n.Inventory()); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}
